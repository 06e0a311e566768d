// GET /openapi.json: an OpenAPI 3.1 description of every endpoint, parameter, header and error code, built
// from the same values the service uses (the exchange schema, the error table, the read limits).

import { ERROR_STATUS, type ErrorCode } from '../core/errors.js';
import { EXCHANGE_REQUEST_SCHEMA, EXCHANGE_RESPONSE_SCHEMA, EXCHANGE_STEP_RESULTS_SCHEMA, PORT_SCHEMA } from './exchange-schema.js';
import { MAX_UNTIL_BYTES } from './read-options.js';
import { VERSION } from '../core/version.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** Error responses by status, each listing its codes. */
function errors(statuses: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const status of statuses) {
    const codes = (Object.keys(ERROR_STATUS) as ErrorCode[]).filter((code) => ERROR_STATUS[code] === status);
    out[String(status)] = {
      description: `Error: ${codes.join(', ')}.`,
      content: { 'application/json': { schema: ref('Error') } },
    };
  }
  return out;
}

const NETWORK_ERRORS = [400, 401, 403, 413, 500, 502, 503, 504];

const param = (name: string, description: string, schema: Record<string, unknown>, required = false) => ({ name, in: 'query', required, description, schema });

const TARGET_PARAMS = [
  param('host', 'Host name, IPv4 or IPv6 address (brackets optional), e.g. 127.0.0.1.', { type: 'string', minLength: 1 }, true),
  param('port', 'TCP port.', PORT_SCHEMA, true),
];

const READ_PARAMS = [
  param('until', `Percent-encoded bytes (1 to ${MAX_UNTIL_BYTES}); the read ends right after their first occurrence (X-Reply-End: until). Bytes after it are discarded.`, { type: 'string' }),
  param('bytes', 'The read ends after exactly this many bytes (X-Reply-End: bytes); at most MAX_REPLY_BYTES.', { type: 'integer', minimum: 1 }),
  param('timeout_ms', 'Deadline of the request (connect, send, read), at most REQUEST_DEADLINE_MS (its default). With until or bytes, only the deadline ends a read that has not found its end.', { type: 'integer', minimum: 1 }),
  param('idle_ms', 'The read ends this long after the last data (X-Reply-End: idle), at most REPLY_IDLE_MS (its default). Not with until or bytes.', { type: 'integer', minimum: 1 }),
];

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema });
const RAW_REPLY = {
  description: 'The peer\'s raw reply bytes.',
  headers: {
    'X-Reply-End': header('Why reading stopped.', { type: 'string', enum: ['closed', 'idle', 'limit', 'deadline', 'until', 'bytes'] }),
    'X-Truncated': header('"true" when the reply reached MAX_REPLY_BYTES and was cut there.', { type: 'string', enum: ['true'] }),
    'X-Peer-Address': header('The address connected to, e.g. 127.0.0.1:9090 or [::1]:6379.'),
  },
  content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
};

/** A schema without its `$schema` member. */
export function withoutDialect<T extends { $schema?: string }>(schema: T): Omit<T, '$schema'> {
  const copy: Partial<T> = { ...schema };
  delete copy.$schema;
  return copy as Omit<T, '$schema'>;
}

/** The document: built on each request (cheap) so it always matches the code it is served by. */
export function openApiDocument() {
  // OpenAPI names the dialect once for the document; the schema itself is the one the server validates with.
  const exchangeRequest = withoutDialect(EXCHANGE_REQUEST_SCHEMA);
  return {
    openapi: '3.1.0',
    info: {
      title: 'ai-agent-sockets',
      version: VERSION,
      description:
        'Raw outbound TCP for AI agents, inside a capability sandbox: connect, send, read a bounded reply. Every destination passes the destination policy (ALLOWED_TARGETS / DENIED_TARGETS and a built-in deny list of private, loopback and metadata ranges). When AUTH_TOKEN is set, every endpoint but /health requires `Authorization: Bearer <token>`. The local host answers request heads longer than 3 bytes per byte of MAX_MESSAGE_BYTES plus 16 KiB with 414 uri-too-long, and may answer 503 host-busy / host-closing, 504 host-timeout or 502 component-failed.',
    },
    security: [{}, { bearer: [] }],
    paths: {
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness: 200 ok.',
          security: [{}],
          responses: { '200': { description: 'ok', content: { 'text/plain': { schema: { type: 'string', const: 'ok' } } } } },
        },
      },
      '/ready': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: 200 when every setting is well-formed; 503 config-invalid naming each malformed setting and its expected form (never a value).',
          security: [{}],
          responses: {
            '200': { description: 'ready', content: { 'application/json': { schema: { type: 'object', properties: { status: { const: 'ready' } }, required: ['status'] } } } },
            ...errors([503]),
          },
        },
      },
      '/': {
        get: {
          operationId: 'httpGet',
          summary: 'An HTTP/1.1 GET (Host, Connection: close) to the default target or to host:port; returns the raw reply.',
          parameters: [
            param('host', 'Target host; the default target (DEFAULT_TARGET_HOST) when absent.', { type: 'string' }),
            param('port', 'Target port; 80 with host, DEFAULT_TARGET_PORT without.', PORT_SCHEMA),
          ],
          responses: { '200': RAW_REPLY, ...errors([...NETWORK_ERRORS, 404, 405]) },
        },
      },
      '/tcp/send': {
        get: {
          operationId: 'tcpSend',
          summary: 'Connect to host:port, send msg, return the raw reply.',
          parameters: [
            ...TARGET_PARAMS,
            param('msg', 'The message: percent-encoded bytes, any byte value, at most MAX_MESSAGE_BYTES. Optional.', { type: 'string' }),
            ...READ_PARAMS,
          ],
          responses: { '200': RAW_REPLY, ...errors([...NETWORK_ERRORS, 405]) },
        },
        post: {
          operationId: 'tcpSendBody',
          summary: 'Connect to host:port, send the request body as is (binary), return the raw reply.',
          parameters: [...TARGET_PARAMS, param('msg', 'Used only when the body is empty; msg and a body together are a 400.', { type: 'string' }), ...READ_PARAMS],
          requestBody: {
            description: 'The bytes to send, at most MAX_MESSAGE_BYTES (413 message-too-large beyond).',
            content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
          },
          responses: { '200': RAW_REPLY, ...errors([...NETWORK_ERRORS, 405]) },
        },
      },
      '/tcp/exchange': {
        post: {
          operationId: 'tcpExchange',
          summary: 'A dialogue on one TCP connection: each step sends (optionally), then reads until a terminator, a byte count, a quiet gap or close.',
          description:
            'Sends count against MAX_MESSAGE_BYTES in total, replies against MAX_REPLY_BYTES in total. The body is at most twice MAX_MESSAGE_BYTES plus 64 KiB (413 body-too-large). A fault after the connection opened returns the usual error status and code, with `steps` completed before it.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ExchangeRequest') } } },
          responses: {
            '200': { description: 'Every step ran (or the dialogue reached the reply cap or deadline).', content: { 'application/json': { schema: ref('ExchangeResponse') } } },
            ...errors([...NETWORK_ERRORS, 405]),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors([401]) },
        },
      },
      '/mcp': {
        post: {
          operationId: 'mcp',
          summary: 'Model Context Protocol over Streamable HTTP (stateless, JSON responses), with one tool: tcp_exchange.',
          description:
            'JSON-RPC 2.0: initialize, ping, tools/list, tools/call (protocol versions 2025-03-26, 2025-06-18, 2025-11-25). Notifications and responses are accepted with 202. GET is 405 (no server-sent stream). A browser Origin other than the server itself is 403.',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: 'A JSON-RPC 2.0 message.' } } } },
          responses: {
            '200': { description: 'A JSON-RPC response.', content: { 'application/json': { schema: { type: 'object' } } } },
            '202': { description: 'A notification or response was accepted.' },
            '400': { description: 'Malformed JSON (JSON-RPC error -32700) or an invalid message (-32600).', content: { 'application/json': { schema: { type: 'object' } } } },
            ...errors([401, 405]),
            '403': { description: 'The request came from a browser Origin that is not allowed.', content: { 'application/json': { schema: { type: 'object' } } } },
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'AUTH_TOKEN, when the server sets one.' } },
      schemas: {
        ExchangeRequest: exchangeRequest,
        ExchangeResponse: EXCHANGE_RESPONSE_SCHEMA,
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(ERROR_STATUS) },
                message: { type: 'string', description: 'What happened, naming the target, the stage or the field.' },
              },
            },
            steps: { ...EXCHANGE_STEP_RESULTS_SCHEMA, description: '/tcp/exchange only: the steps completed before a fault.' },
          },
        },
      },
    },
  };
}
