// The request sizes derived from the numeric settings (settings/setting-table.js): plain JavaScript, so the
// local host (host/) sizes what it accepts from the same table the component validates with.

/** Room in a dialogue's JSON body for its structure, beside the encoded bytes to send. */
const EXCHANGE_BODY_ROOM_BYTES = 65_536;

/**
 * Largest JSON body of a dialogue (POST /tcp/exchange, the MCP tool's call) and so the largest body any endpoint
 * takes: hex doubles the bytes of a message; the rest is room for the dialogue's structure.
 * @param {number} maxMessageBytes
 */
export function exchangeBodyLimit(maxMessageBytes) {
  return 2 * maxMessageBytes + EXCHANGE_BODY_ROOM_BYTES;
}
