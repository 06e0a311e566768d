// The numeric settings' defaults and hard bounds, and the request sizes derived from them: plain JavaScript,
// so the local host (host/) sizes what it accepts from the same table the component validates with.

/** Every numeric setting, in one table: the README's configuration table is checked against it. */
export const NUMERIC_SETTINGS = /** @type {const} */ ({
  connectTimeoutMs: { name: 'CONNECT_TIMEOUT_MS', defaultValue: 5_000, min: 1, max: 60_000, unit: 'ms' },
  requestDeadlineMs: { name: 'REQUEST_DEADLINE_MS', defaultValue: 30_000, min: 1, max: 120_000, unit: 'ms' },
  replyIdleMs: { name: 'REPLY_IDLE_MS', defaultValue: 200, min: 1, max: 10_000, unit: 'ms' },
  maxReplyBytes: { name: 'MAX_REPLY_BYTES', defaultValue: 1_048_576, min: 1, max: 16_777_216, unit: 'bytes' },
  maxMessageBytes: { name: 'MAX_MESSAGE_BYTES', defaultValue: 65_536, min: 0, max: 1_048_576, unit: 'bytes' },
});

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
