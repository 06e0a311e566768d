// The JSON schema of a /udp/exchange body and its answer: the one source of truth that validates requests,
// documents the endpoint in /openapi.json, and is the input schema of the MCP tool `udp_exchange`.

import { DATAGRAM_ENDS, MAX_DATAGRAM_BYTES } from '../net/datagrams.js';
import { byteValueSchema, HOST_SHAPE, MAX_STEPS, PORT_SCHEMA, REPLY_VALUE } from './exchange-schema.js';

/** Most datagrams one step may list to send (MAX_DATAGRAMS bounds the request's in all). */
export const MAX_STEP_DATAGRAMS = 64;

const positive = (description: string) => ({ type: 'integer', minimum: 1, description });

export const UDP_EXCHANGE_REQUEST_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  title: 'udp_exchange request',
  description:
    'Datagrams with one UDP address: each step sends zero or more datagrams, then collects the replies that come back from that address (never from any other) until `count` of them, a quiet gap (`idle_ms`, the default), or the deadline.',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port', 'steps'],
  properties: {
    host: { ...HOST_SHAPE, description: 'Host name, IPv4 or IPv6 address (brackets optional), e.g. "127.0.0.1".' },
    port: { ...PORT_SCHEMA, description: 'UDP port, e.g. 53.' },
    timeout_ms: positive("Deadline of the whole exchange (every send and every wait), at most the server's REQUEST_DEADLINE_MS (its default)."),
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_STEPS,
      description: `1 to ${MAX_STEPS} steps, run in order on one socket connected to host:port.`,
      items: {
        type: 'object',
        additionalProperties: false,
        description:
          "Send each datagram of `send` (if any), then collect replies: collecting ends on whichever comes first of `count` and `idle_ms` (either may be given, or both); with neither, after the server's quiet gap (REPLY_IDLE_MS).",
        properties: {
          send: {
            type: 'array',
            maxItems: MAX_STEP_DATAGRAMS,
            description: `0 to ${MAX_STEP_DATAGRAMS} datagrams, each at most ${MAX_DATAGRAM_BYTES} bytes; all the request's sends together at most MAX_MESSAGE_BYTES, and at most MAX_DATAGRAMS of them.`,
            items: byteValueSchema('One datagram'),
          },
          count: positive('Collecting ends once this many datagrams have come back (at most MAX_DATAGRAMS).'),
          idle_ms: positive('Collecting ends this long after the last datagram, or after the send when none has come (at most REPLY_IDLE_MS, the default).'),
        },
      },
    },
  },
} as const;

const DATAGRAM_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['reply', 'bytes', 'ms'],
  properties: {
    reply: REPLY_VALUE,
    bytes: { type: 'integer', minimum: 0, description: 'Length of the datagram in bytes (cut at MAX_REPLY_BYTES across the exchange).' },
    ms: { type: 'number', minimum: 0, description: 'When it arrived, from the start of its step.' },
  },
};

const UDP_STEP_RESULT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['datagrams', 'end', 'ms'],
  properties: {
    datagrams: { type: 'array', items: DATAGRAM_SCHEMA, description: 'The datagrams that came back from host:port, in order of arrival.' },
    end: {
      type: 'string',
      enum: DATAGRAM_ENDS,
      description: 'count (as many as asked came back), idle (quiet gap), deadline, limit (MAX_REPLY_BYTES or MAX_DATAGRAMS reached across steps).',
    },
    ms: { type: 'number', minimum: 0, description: 'Time the step took (send and collect).' },
  },
};

export const UDP_EXCHANGE_RESPONSE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['peer', 'steps', 'ms'],
  properties: {
    peer: { type: 'string', description: 'The address sent to, e.g. "127.0.0.1:53" or "[::1]:53".' },
    steps: { type: 'array', items: UDP_STEP_RESULT_SCHEMA, description: 'One result per step run; steps after one that ended on limit or deadline are not run.' },
    ms: { type: 'number', minimum: 0, description: 'Time the whole exchange took.' },
    ignored: { type: 'integer', minimum: 1, description: 'Datagrams that came from another address than host:port: dropped, never shown.' },
  },
} as const;

/** The body of an error after the socket opened: the usual error, plus the steps completed before it. */
export const UDP_STEP_RESULTS_SCHEMA = { type: 'array', items: UDP_STEP_RESULT_SCHEMA } as const;
