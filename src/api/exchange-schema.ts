// The JSON schema of a /tcp/exchange body: the one source of truth that validates requests, documents the
// endpoint in /openapi.json, and is the input schema of the MCP tool `tcp_exchange`.

import { MAX_PORT, MIN_PORT } from '../net/target.js';

/** Most steps in one dialogue: enough for a handshake and a few commands, small enough to bound the work. */
export const MAX_STEPS = 32;

/** Bytes as exactly one of three encodings. */
const byteValue = (what: string) => ({
  description: `${what}: exactly one of text (UTF-8), base64 or hex.`,
  type: 'object',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: {
    text: { type: 'string', description: 'UTF-8 text, e.g. "PING\\r\\n".' },
    base64: {
      type: 'string',
      description: 'Standard base64 with padding, e.g. "AAEC/w==".',
      pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
    },
    hex: { type: 'string', description: 'Pairs of hex digits, e.g. "0001ff".', pattern: '^(?:[0-9A-Fa-f]{2})*$' },
  },
});

/** A TCP port, as every door takes one (a query's `port=` text is checked by `isPort`, to the same bounds). */
export const PORT_SCHEMA = { type: 'integer', minimum: MIN_PORT, maximum: MAX_PORT } as const;

/** A positive whole number (the server's settings bound it further; the message of a 400 names the bound). */
const positive = (description: string) => ({ type: 'integer', minimum: 1, description });

export const EXCHANGE_REQUEST_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'tcp_exchange request',
  description:
    'One TCP connection to host:port and a dialogue on it: each step optionally sends bytes, then reads a reply that ends on `until`, after `bytes`, after a quiet gap (`idle_ms`, the default), or when the peer closes.',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'steps'],
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 300, description: 'Host name, IPv4 or IPv6 address (brackets optional), e.g. "127.0.0.1".' },
    port: { ...PORT_SCHEMA, description: 'TCP port, e.g. 6379.' },
    timeout_ms: positive('Deadline of the whole dialogue (connect, every send and read), at most the server\'s REQUEST_DEADLINE_MS (its default).'),
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_STEPS,
      description: `1 to ${MAX_STEPS} steps, run in order on the one connection.`,
      items: {
        type: 'object',
        additionalProperties: false,
        description: 'Send `send` (if given), then read. Give at most one of until, bytes and idle_ms.',
        properties: {
          send: byteValue('Bytes to send before reading'),
          until: byteValue('The read ends right after the first occurrence of these bytes (1 to 256), e.g. {"text": "\\r\\n"}'),
          bytes: positive('The read ends after exactly this many bytes (at most MAX_REPLY_BYTES).'),
          idle_ms: positive('The read ends this long after the last data (at most REPLY_IDLE_MS, the default).'),
        },
        not: {
          anyOf: [{ required: ['until', 'bytes'] }, { required: ['until', 'idle_ms'] }, { required: ['bytes', 'idle_ms'] }],
        },
      },
    },
  },
} as const;

/** A byte value in the answer: `text` when the bytes are valid UTF-8, else `base64`. */
const replyValue = {
  type: 'object',
  description: 'text when the bytes are valid UTF-8, else base64.',
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: { text: { type: 'string' }, base64: { type: 'string' } },
};

/** Why a read ended. */
export const REPLY_ENDS = ['closed', 'idle', 'limit', 'deadline', 'until', 'bytes'] as const;

const STEP_RESULT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['reply', 'end', 'bytes', 'ms'],
  properties: {
    reply: replyValue,
    end: {
      type: 'string',
      enum: REPLY_ENDS,
      description: 'closed (peer closed), idle (quiet gap), limit (MAX_REPLY_BYTES reached across steps), deadline, until, bytes.',
    },
    bytes: { type: 'integer', minimum: 0, description: 'Length of the reply in bytes.' },
    ms: { type: 'number', minimum: 0, description: 'Time the step took (send and read).' },
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
  },
} as const;

/** The body of an error after the connection opened: the usual error, plus the steps completed before it. */
export const EXCHANGE_STEP_RESULTS_SCHEMA = { type: 'array', items: STEP_RESULT_SCHEMA } as const;
