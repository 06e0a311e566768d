// The JSON schema of a /tcp/exchange body: the one source of truth that validates requests, documents the
// endpoint in /openapi.json, and is the input schema of the MCP tool `tcp_exchange`.

import { STEP_ENDS } from '../net/dialogue.js';
import { BRACKETED_IPV6_PATTERN, DOTTED_DECIMAL_PATTERN, HOST_NAME_PATTERN, IPV6_PATTERN, MAX_PORT, MIN_PORT } from '../net/target.js';

/** Most steps in one dialogue: enough for a handshake and a few commands, small enough to bound the work. */
export const MAX_STEPS = 32;

const BASE64_PATTERN = '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$';
const HEX_PATTERN = '^(?:[0-9A-Fa-f]{2})*$';

/** The encodings of bytes; `lengths` bounds each encoding's string (an `until`). */
const encodings = (lengths: Partial<Record<'text' | 'base64' | 'hex', { minLength: number; maxLength: number }>> = {}) => ({
  text: { type: 'string', description: 'UTF-8 text, e.g. "PING\\r\\n".', ...lengths.text },
  base64: { type: 'string', title: 'base64 (standard alphabet, padded)', description: 'Standard base64 with padding, e.g. "AAEC/w==".', pattern: BASE64_PATTERN, ...lengths.base64 },
  hex: { type: 'string', title: 'hex (pairs of hex digits)', description: 'Pairs of hex digits, e.g. "0001ff".', pattern: HEX_PATTERN, ...lengths.hex },
});

/** Bytes as exactly one of three encodings; `lengths` bounds each encoding's string (an `until`). */
export const byteValueSchema = (what: string, lengths: Parameters<typeof encodings>[0] = {}) => ({
  description: `${what}: exactly one of text (UTF-8), base64 or hex.`,
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: encodings(lengths),
});

/** Most parts in one step's `send`: a command around a few secrets, with room to spare. */
export const MAX_SEND_PARTS = 64;

/**
 * What a `{"secret": …}` part may name: any name, checked against the caller's secrets when the dialogue runs
 * (the message of a refusal says why), or, in the MCP tool a caller is shown, exactly the names it may use.
 */
export type SecretNames = readonly string[] | 'any';

const SECRET_PART_DESCRIPTION = 'The name of a secret (SECRETS) the caller may use: its value is sent in place of this part, only to its destinations, and never shown: a reply that holds it shows [secret:NAME] instead.';

/** A step's `send` as a list of parts, each bytes or a secret by name; a caller with no secrets is shown bytes only. */
const sendParts = (secrets: SecretNames) => ({
  type: 'array',
  title: 'a list of parts',
  minItems: 1,
  maxItems: MAX_SEND_PARTS,
  description: `The bytes to send as 1 to ${MAX_SEND_PARTS} parts, put together in order: each exactly one of text, base64, hex${secrets === 'any' || secrets.length > 0 ? ' or secret' : ''}.`,
  items: {
    type: 'object',
    minProperties: 1,
    maxProperties: 1,
    additionalProperties: false,
    properties: {
      ...encodings(),
      ...(secrets === 'any'
        ? { secret: { type: 'string', minLength: 1, maxLength: 64, description: SECRET_PART_DESCRIPTION } }
        : secrets.length > 0 && { secret: { type: 'string', enum: [...secrets], description: SECRET_PART_DESCRIPTION } }),
    },
  },
});

/**
 * The lengths an `until` may have in each encoding: 1 to 256 characters of text; in base64 and hex, the strings
 * of 1 to 256 bytes (base64's longest, 344 characters, holds up to 258). Every form stays within MAX_UNTIL_BYTES.
 */
export const UNTIL_LENGTHS = {
  text: { minLength: 1, maxLength: 256 },
  base64: { minLength: 4, maxLength: 344 },
  hex: { minLength: 2, maxLength: 512 },
};

/** A TCP port, as every door takes one (a query's `port=` text is checked by `isPort`, to the same bounds). */
export const PORT_SCHEMA = { type: 'integer', minimum: MIN_PORT, maximum: MAX_PORT } as const;

/**
 * A host as the document describes it, in the parser's own grammar (net/target.ts): a host name, a dotted-decimal
 * IPv4 address, or an IPv6 address with or without brackets. The server also takes the other IPv4 spellings of
 * the URL standard (`2130706433`, `0x7f.1`), which the destination policy reads as the address they denote; the
 * document shows the usual forms only.
 */
export const HOST_SCHEMA = {
  type: 'string',
  anyOf: [HOST_NAME_PATTERN, DOTTED_DECIMAL_PATTERN, IPV6_PATTERN, BRACKETED_IPV6_PATTERN].map((pattern) => ({ pattern })),
} as const;

/** A server name as the document describes it: exactly the forms of a host the document shows (no other IPv4 spellings). */
export const SERVER_NAME_SCHEMA = HOST_SCHEMA;

/**
 * A host or server name as the validator checks it: its shape only (a string no longer than any form can be).
 * The meaning is the parser's (parseHost, serverNameFor), whose message says what is wrong with the value; the
 * patterns above are what the document shows.
 */
export const HOST_SHAPE = { type: 'string', minLength: 1, maxLength: 300 } as const;

/** `"tls"` / `"starttls"`: TLS with the default server name, or with one named. */
const tlsValue = (description: string, allowFalse: boolean) => ({
  description,
  oneOf: [
    allowFalse ? ({ type: 'boolean' } as const) : ({ const: true } as const),
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        server_name: {
          ...HOST_SHAPE,
          description: 'The name sent as SNI and that the certificate must be valid for (a DNS name or an IP address); default: host. It never selects where to connect.',
        },
      },
    },
  ] as const,
});

/** A positive whole number (the server's settings bound it further; the message of a 400 names the bound). */
const positive = (description: string) => ({ type: 'integer', minimum: 1, description });

/**
 * The schema of a /tcp/exchange body; `secrets` says what a `{"secret": …}` part may name (see SecretNames).
 * The one the server validates with and documents is EXCHANGE_REQUEST_SCHEMA; the MCP tool shows each caller its own.
 */
export const exchangeRequestSchema = (secrets: SecretNames) =>
  ({
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tcp_exchange request',
    description:
      'One TCP connection to host:port and a dialogue on it: each step optionally sends bytes, then reads a reply that ends on `until`, after `bytes`, after a quiet gap (`idle_ms`, the default), or when the peer closes.',
    type: 'object',
    additionalProperties: false,
    required: ['host', 'port', 'steps'],
    // A dialogue that starts with TLS ("tls" other than false) has no step that starts it again.
    if: { required: ['tls'], properties: { tls: { not: { const: false } } } },
    then: {
      properties: {
        steps: { items: { not: { required: ['starttls'], description: 'the dialogue already starts with TLS ("tls"); TLS starts once per connection' } } },
      },
    },
    properties: {
      host: { ...HOST_SHAPE, description: 'Host name, IPv4 or IPv6 address (brackets optional), e.g. "127.0.0.1".' },
      port: { ...PORT_SCHEMA, description: 'TCP port, e.g. 6379.' },
      tls: tlsValue(
        'Implicit TLS: the handshake runs first, then every step sends and reads plaintext inside TLS (TLS 1.2 or 1.3; the certificate is always verified). true, or {"server_name": "…"}.',
        true,
      ),
      timeout_ms: positive('Deadline of the whole dialogue (connect, every send and read), at most the server\'s REQUEST_DEADLINE_MS (its default).'),
      steps: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_STEPS,
        // TLS starts once per connection: at most one step upgrades.
        contains: { type: 'object', required: ['starttls'], description: 'TLS starts once per connection' },
        minContains: 0,
        maxContains: 1,
        description: `1 to ${MAX_STEPS} steps, run in order on the one connection; at most one of them has \`starttls\`.`,
        items: {
          type: 'object',
          additionalProperties: false,
          description:
            'Start TLS (`starttls`, if given), send `send` (if given), then read. The read ends on whichever comes first of `until`, `bytes` and `idle_ms` (any of them may be combined); with none, after the server\'s quiet gap (REPLY_IDLE_MS). A `starttls` step that sends nothing and gives none of them reads nothing (end: none): a STARTTLS server speaks after the handshake only when the client does.',
          properties: {
            starttls: tlsValue(
              'Upgrade the connection to TLS before this step sends (STARTTLS, after the plaintext steps before it). Bytes the peer sent after its last plaintext reply and before the handshake fail the dialogue (tls-handshake-failed). With nothing to send and no until, bytes or idle_ms, the step reads nothing. true, or {"server_name": "…"}.',
              false,
            ),
            send: { description: 'Bytes to send before reading: one byte value, or a list of parts.', oneOf: [byteValueSchema('Bytes to send before reading'), sendParts(secrets)] },
            until: byteValueSchema(
              'The read ends right after the first occurrence of these bytes, e.g. {"text": "\\r\\n"}: 1 to 256 characters of text, 4 to 344 base64 characters or 2 to 512 hex digits',
              UNTIL_LENGTHS,
            ),
            bytes: positive('The read ends after exactly this many bytes (at most MAX_REPLY_BYTES).'),
            idle_ms: positive('The read ends this long after the last data (at most REPLY_IDLE_MS, the default).'),
          },
        },
      },
    },
  }) as const;

export const EXCHANGE_REQUEST_SCHEMA = exchangeRequestSchema('any');


/** A byte value in the answer: `text` when the bytes are valid UTF-8, else `base64`. */
export const REPLY_VALUE = {
  type: 'object',
  description: 'text when the bytes are valid UTF-8, else base64.',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: { text: { type: 'string' }, base64: { type: 'string' } },
};

const STEP_RESULT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['reply', 'end', 'bytes', 'ms'],
  properties: {
    reply: REPLY_VALUE,
    end: {
      type: 'string',
      enum: STEP_ENDS,
      description:
        'closed (peer closed), idle (quiet gap), limit (MAX_REPLY_BYTES reached across steps), deadline, until, bytes; none: the step read nothing (a starttls step that sends nothing and gives no until, bytes or idle_ms), its reply empty.',
    },
    bytes: { type: 'integer', minimum: 0, description: 'Length of the reply in bytes (as shown: after redaction).' },
    ms: { type: 'number', minimum: 0, description: 'Time the step took (send and read).' },
    redacted: { const: true, description: 'Present when the reply held bytes of a secret sent on the connection, shown as [secret:NAME] instead.' },
  },
};

export const EXCHANGE_RESPONSE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['peer', 'steps', 'ms'],
  properties: {
    peer: { type: 'string', description: 'The address connected to, e.g. "127.0.0.1:6379" or "[::1]:6379".' },
    steps: {
      type: 'array',
      items: STEP_RESULT_SCHEMA,
      description: 'One result per step run; steps after one that ended on limit or deadline are not run.',
    },
    ms: { type: 'number', minimum: 0, description: 'Time the whole exchange took.' },
    redacted: { const: true, description: 'Present when any reply had bytes of a secret replaced by its marker.' },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['version', 'cipher'],
      description: 'When TLS was started (implicit or STARTTLS): what its handshake agreed.',
      properties: {
        version: { type: 'string', enum: ['TLSv1.2', 'TLSv1.3'] },
        cipher: { type: 'string', description: 'The IANA cipher suite name, e.g. TLS_AES_128_GCM_SHA256.' },
        step: { type: 'integer', minimum: 0, description: 'The index of the step where TLS began.' },
      },
    },
  },
} as const;

/** The body of an error after the connection opened: the usual error, plus the steps completed before it. */
export const EXCHANGE_STEP_RESULTS_SCHEMA = { type: 'array', items: STEP_RESULT_SCHEMA } as const;
