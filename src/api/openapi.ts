// GET /openapi.json: an OpenAPI 3.1 description of every endpoint, parameter, header and error code, built
// from the same values the service uses (the exchange schema, the error table, the read limits).

import { ERROR_STATUS, type ErrorCode } from '../core/errors.js';
import { type Limits, REPLY_ENDS } from '../net/dialogue.js';
import { EXCHANGE_RESPONSE_SCHEMA, exchangeRequestSchema, EXCHANGE_STEP_RESULTS_SCHEMA, HOST_SCHEMA, PORT_SCHEMA, SERVER_NAME_SCHEMA, UNTIL_LENGTHS } from './exchange-schema.js';
import { MCP_PROTOCOL_VERSIONS } from './mcp.js';
import { UDP_EXCHANGE_REQUEST_SCHEMA, UDP_EXCHANGE_RESPONSE_SCHEMA, UDP_STEP_RESULTS_SCHEMA } from './udp-schema.js';
import { DATAGRAM_ENDS, MAX_DATAGRAM_BYTES } from '../net/datagrams.js';
import { MAX_UNTIL_CHARACTERS } from './read-options.js';
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

const HOST_DESCRIPTION =
  'Host name, IPv4 or IPv6 address (brackets optional), e.g. 127.0.0.1. The pattern shows the usual forms; the other IPv4 spellings of the URL standard (2130706433, 0x7f.1) are taken too, and the destination policy reads them as the address they denote.';

const TARGET_PARAMS = [param('host', HOST_DESCRIPTION, HOST_SCHEMA, true), param('port', 'TCP port.', PORT_SCHEMA, true)];

/** The server's bounds, when its settings are well-formed: a value past them is a 400 invalid-parameter. */
const atMost = (limit: number | undefined) => (limit === undefined ? {} : { maximum: limit });

/** The read parameters of /tcp/send: any may be combined, the read ending on whichever comes first. */
function readParams(limits: Limits | undefined) {
  return [
    param(
      'until',
      `Percent-encoded, 1 to ${MAX_UNTIL_CHARACTERS} characters once decoded (a byte that is not UTF-8 counts as one); the read ends right after their first occurrence (X-Reply-End: until). Bytes after it are discarded.`,
      { type: 'string', ...UNTIL_LENGTHS.text },
    ),
    param('bytes', 'The read ends after exactly this many bytes (X-Reply-End: bytes); at most MAX_REPLY_BYTES.', { type: 'integer', minimum: 1, ...atMost(limits?.maxReplyBytes) }),
    param(
      'timeout_ms',
      'Deadline of the request (connect, send, read), at most REQUEST_DEADLINE_MS (its default). With until or bytes and no idle_ms, only the deadline ends a read that has not found its end.',
      { type: 'integer', minimum: 1, ...atMost(limits?.requestDeadlineMs) },
    ),
    param('idle_ms', 'The read ends this long after the last data (X-Reply-End: idle), at most REPLY_IDLE_MS (its default, when neither until nor bytes is given).', {
      type: 'integer',
      minimum: 1,
      ...atMost(limits?.replyIdleMs),
    }),
  ];
}

const TLS_PARAMS = [
  param('tls', 'true: TLS from the first byte (implicit TLS; TLS 1.2 or 1.3, the certificate always verified against Mozilla\'s roots and TLS_CA_CERTS). Sends and reads are of plaintext. Only true: leave it out for plain TCP.', { type: 'boolean', const: true }),
  param('server_name', 'TLS with this name (implies tls=true): the name sent as SNI and that the certificate must be valid for (a DNS name or an IP address in plain notation); default: host. It never selects where to connect.', SERVER_NAME_SCHEMA),
];

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema });
const RAW_REPLY = {
  description: 'The peer\'s raw reply bytes.',
  headers: {
    'X-Reply-End': header('Why reading stopped.', { type: 'string', enum: [...REPLY_ENDS] }),
    'X-Truncated': header('"true" when the reply reached MAX_REPLY_BYTES and was cut there.', { type: 'string', enum: ['true'] }),
    'X-Peer-Address': header('The address connected to, e.g. 127.0.0.1:9090 or [::1]:6379.'),
    'X-Tls-Version': header('With tls=true: the TLS version agreed.', { type: 'string', enum: ['TLSv1.2', 'TLSv1.3'] }),
    'X-Tls-Cipher': header('With tls=true: the cipher suite agreed, by its IANA name, e.g. TLS_AES_128_GCM_SHA256.'),
  },
  content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
};

/** A schema without its `$schema` member. */
export function withoutDialect<T extends { $schema?: string }>(schema: T): Omit<T, '$schema'> {
  const copy: Partial<T> = { ...schema };
  delete copy.$schema;
  return copy as Omit<T, '$schema'>;
}

/** `"tls"` / `"starttls"` as the document shows it: the server name in the forms the parser takes. */
function documentedTls<T extends { oneOf: readonly [unknown, { properties: { server_name: object } }] }>(option: T): T {
  const [flag, named] = option.oneOf;
  const serverName = { ...named.properties.server_name, ...SERVER_NAME_SCHEMA };
  return { ...option, oneOf: [flag, { ...named, properties: { ...named.properties, server_name: serverName } }] };
}

/** A request body's schema, as far as `documented` changes it: its host, its deadline and its steps' properties. */
interface RequestSchema {
  properties: { host: object; timeout_ms: object; steps: { items: { properties: object } } };
}

/**
 * A request schema as the document shows it: the schema the server validates with, plus what the server checks
 * beyond it: the forms of a host (which the validator leaves to the parser), the deadline's bound, and
 * `properties`' and `stepProperties`' changes to the rest (server names, the bounds the settings set).
 */
function documented<S extends RequestSchema>(schema: S, limits: Limits | undefined, properties: object, stepProperties: object) {
  const step = schema.properties.steps.items;
  return {
    ...schema,
    properties: {
      ...schema.properties,
      host: { ...HOST_SCHEMA, description: HOST_DESCRIPTION },
      timeout_ms: { ...schema.properties.timeout_ms, ...atMost(limits?.requestDeadlineMs) },
      ...properties,
      steps: { ...schema.properties.steps, items: { ...step, properties: { ...step.properties, ...stepProperties } } },
    },
  } as S;
}

/** The /tcp/exchange body as the document shows it: the caller's own secret names, TLS server names, read bounds. */
function documentedExchangeRequest(limits: Limits | undefined, secretNames: readonly string[]) {
  const schema = withoutDialect(exchangeRequestSchema(secretNames));
  const step = schema.properties.steps.items.properties;
  return documented(schema, limits, { tls: documentedTls(schema.properties.tls) }, {
    starttls: documentedTls(step.starttls),
    bytes: { ...step.bytes, ...atMost(limits?.maxReplyBytes) },
    idle_ms: { ...step.idle_ms, ...atMost(limits?.replyIdleMs) },
  });
}

/** The /udp/exchange body as the document shows it: collecting's bounds. */
function documentedUdpRequest(limits: Limits | undefined) {
  const schema = withoutDialect(UDP_EXCHANGE_REQUEST_SCHEMA);
  const step = schema.properties.steps.items.properties;
  return documented(schema, limits, {}, { count: { ...step.count, ...atMost(limits?.maxDatagrams) }, idle_ms: { ...step.idle_ms, ...atMost(limits?.replyIdleMs) } });
}

/** The parameters of GET /udp/send. */
function udpSendParams(limits: Limits | undefined) {
  return [
    param('host', HOST_DESCRIPTION, HOST_SCHEMA, true),
    param('port', 'UDP port.', PORT_SCHEMA, true),
    param('msg', `The datagram: percent-encoded bytes, any byte value, at most ${MAX_DATAGRAM_BYTES} and at most MAX_MESSAGE_BYTES; empty or absent: an empty datagram.`, { type: 'string' }),
    param('timeout_ms', 'How long to wait for the first reply, at most REQUEST_DEADLINE_MS (its default).', { type: 'integer', minimum: 1, ...atMost(limits?.requestDeadlineMs) }),
    param('idle_ms', 'Stop waiting this long after the send instead (at most REPLY_IDLE_MS).', { type: 'integer', minimum: 1, ...atMost(limits?.replyIdleMs) }),
  ];
}

const RAW_DATAGRAM = {
  description: 'The first datagram that came back from host:port, raw.',
  headers: {
    'X-Reply-End': header('count (a datagram came back), or limit when it was cut at MAX_REPLY_BYTES.', { type: 'string', enum: [...DATAGRAM_ENDS] }),
    'X-Truncated': header('"true" when the datagram was longer than MAX_REPLY_BYTES and was cut there.', { type: 'string', enum: ['true'] }),
    'X-Peer-Address': header('The address sent to, e.g. 127.0.0.1:53 or [::1]:53.'),
  },
  content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
};

/** The document: built on each request (cheap) so it always matches the code it is served by. */
export function openApiDocument(limits?: Limits, secretNames: readonly string[] = []) {
  const READ_PARAMS = readParams(limits);
  // OpenAPI names the dialect once for the document; the schema itself is the one the server validates with.
  const exchangeRequest = documentedExchangeRequest(limits, secretNames);
  return {
    openapi: '3.1.0',
    info: {
      title: 'ai-agent-sockets',
      version: VERSION,
      description:
        'Raw outbound TCP for AI agents, inside a capability sandbox: connect, send, read a bounded reply. Every destination passes the destination policy (ALLOWED_TARGETS / DENIED_TARGETS and a built-in deny list of private, loopback and metadata ranges). When AUTH_TOKEN is set, every endpoint but /health and /ready requires `Authorization: Bearer <token>`. Every endpoint but /health and /ready refuses a browser Origin not listed in ALLOWED_ORIGINS (403 origin-denied; an allowed one gets CORS headers and its OPTIONS preflight an answer) and, while LISTEN_ADDRESS is a loopback address, a Host that is not a loopback name or in ALLOWED_HOSTS (403 host-denied: DNS rebinding). The local host answers request heads longer than 3 bytes per byte of MAX_MESSAGE_BYTES plus 16 KiB with 414 uri-too-long, and may answer 503 host-busy / host-closing, 504 host-timeout or 502 component-failed.',
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
            param('host', `Target host; the default target (DEFAULT_TARGET_HOST) when absent. ${HOST_DESCRIPTION}`, HOST_SCHEMA),
            param('port', 'Target port; 80 with host (443 with tls=true), DEFAULT_TARGET_PORT without.', PORT_SCHEMA),
            ...TLS_PARAMS,
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
            ...TLS_PARAMS,
          ],
          responses: { '200': RAW_REPLY, ...errors([...NETWORK_ERRORS, 405]) },
        },
        post: {
          operationId: 'tcpSendBody',
          summary: 'Connect to host:port, send the request body as is (binary), return the raw reply. `msg` is for GET: on POST it is a 400.',
          parameters: [...TARGET_PARAMS, ...READ_PARAMS, ...TLS_PARAMS],
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
            'TLS: "tls" at the top level (implicit TLS) or a step\'s "starttls" (STARTTLS); sends and replies are then plaintext inside TLS. Sends count against MAX_MESSAGE_BYTES in total, replies against MAX_REPLY_BYTES in total. The body is at most twice MAX_MESSAGE_BYTES plus 64 KiB (413 body-too-large). A fault after the connection opened returns the usual error status and code, with `steps` completed before it.',
          requestBody: { required: true, content: { 'application/json': { schema: ref('ExchangeRequest') } } },
          responses: {
            '200': { description: 'Every step ran (or the dialogue reached the reply cap or deadline).', content: { 'application/json': { schema: ref('ExchangeResponse') } } },
            ...errors([...NETWORK_ERRORS, 405]),
          },
        },
      },
      '/udp/send': {
        get: {
          operationId: 'udpSend',
          summary: 'Send one datagram to host:port; return the first datagram that comes back from that address (504 read-timeout when none does).',
          parameters: udpSendParams(limits),
          responses: { '200': RAW_DATAGRAM, ...errors([...NETWORK_ERRORS, 405]) },
        },
      },
      '/udp/exchange': {
        post: {
          operationId: 'udpExchange',
          summary: 'Datagrams with one UDP address: each step sends datagrams (optionally), then collects the replies from that address until a count, a quiet gap or the deadline.',
          description:
            `Replies come only from host:port (a connected socket; datagrams from any other address are dropped and counted as ignored). Each datagram is at most ${MAX_DATAGRAM_BYTES} bytes (413 message-too-large); the sends together count against MAX_MESSAGE_BYTES (413), their number against MAX_DATAGRAMS (413); replies against MAX_REPLY_BYTES and MAX_DATAGRAMS in total (end: limit). The same destination policy as TCP: its entries name address and port, for either protocol. A fault after the socket opened (connection-refused: an ICMP port unreachable) returns the usual error status and code, with \`steps\` completed before it.`,
          requestBody: { required: true, content: { 'application/json': { schema: ref('UdpExchangeRequest') } } },
          responses: {
            '200': { description: 'Every step ran (or the exchange reached a cap or the deadline).', content: { 'application/json': { schema: ref('UdpExchangeResponse') } } },
            ...errors([...NETWORK_ERRORS, 405]),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } }, ...errors([401, 403]) },
        },
      },
      '/mcp': {
        post: {
          operationId: 'mcp',
          summary: 'Model Context Protocol over Streamable HTTP (stateless, JSON responses), with two tools: tcp_exchange and udp_exchange.',
          description:
            `JSON-RPC 2.0: initialize, ping, tools/list, tools/call, server/discover (protocol versions ${MCP_PROTOCOL_VERSIONS.join(', ')}). Notifications and responses are accepted with 202. A JSON-RPC batch (an array of messages) is taken only under protocol version 2025-03-26, the one revision that has batches: without an MCP-Protocol-Version header (which a server then reads as 2025-03-26) or with that version; under 2025-06-18 and later it is a 400 (-32600), as is a batch with a member that is not a JSON-RPC message. An MCP-Protocol-Version header naming a version the server does not speak is a 400 with -32022 (data: supported, requested). Under MCP-Protocol-Version 2026-07-28 the headers Mcp-Method (the method) and, for tools/call, Mcp-Name (the tool name, =?base64?…?= decoded) must repeat the body and _meta's protocol version must be the header's: a missing, different or malformed one is a 400 with -32020 (HeaderMismatch); a _meta without the version or client capabilities is a 400 with -32602; initialize, ping and unknown methods are a 404 with -32601; tools/list and server/discover carry ttlMs and cacheScope. GET is 405 (no server-sent stream). A browser Origin not in ALLOWED_ORIGINS is 403 origin-denied; a Host that is not a loopback name while LISTEN_ADDRESS is loopback is 403 host-denied.`,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { oneOf: [ref('JsonRpcMessage'), { type: 'array', minItems: 1, items: ref('JsonRpcMessage'), description: 'A batch: protocol version 2025-03-26 only.' }] } } },
          },
          responses: {
            '200': {
              description: 'A JSON-RPC response; for a batch, the responses to its requests.',
              content: { 'application/json': { schema: { oneOf: [ref('JsonRpcResponse'), { type: 'array', minItems: 1, items: ref('JsonRpcResponse') }] } } },
            },
            '202': { description: 'Only notifications or responses were sent: accepted.' },
            '400': {
              description: 'Malformed JSON (JSON-RPC error -32700), an invalid message or batch (-32600), an MCP-Protocol-Version the server does not speak (-32022), or, under 2026-07-28, request headers that do not repeat the body (-32020) or a _meta without the version or client capabilities (-32602).',
              content: { 'application/json': { schema: ref('JsonRpcResponse') } },
            },
            '404': { description: 'Under 2026-07-28: a method the revision does not have (initialize, ping, any unknown one), JSON-RPC error -32601.', content: { 'application/json': { schema: ref('JsonRpcResponse') } } },
            ...errors([401, 403, 405, 413]),
          },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'AUTH_TOKEN, when the server sets one.' } },
      schemas: {
        ExchangeRequest: exchangeRequest,
        ExchangeResponse: EXCHANGE_RESPONSE_SCHEMA,
        UdpExchangeRequest: documentedUdpRequest(limits),
        UdpExchangeResponse: UDP_EXCHANGE_RESPONSE_SCHEMA,
        JsonRpcMessage: {
          type: 'object',
          description: 'A JSON-RPC 2.0 request (method and id), notification (method, no id) or response (result or error).',
          required: ['jsonrpc'],
          properties: { jsonrpc: { const: '2.0' }, id: { type: ['string', 'number'] }, method: { type: 'string' }, params: { type: 'object' } },
          anyOf: [{ required: ['method'] }, { required: ['result'] }, { required: ['error'] }],
        },
        JsonRpcResponse: {
          type: 'object',
          required: ['jsonrpc', 'id'],
          properties: {
            jsonrpc: { const: '2.0' },
            id: { type: ['string', 'number', 'null'] },
            result: { type: 'object' },
            error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'integer' }, message: { type: 'string' } } },
          },
          oneOf: [{ required: ['result'] }, { required: ['error'] }],
        },
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
            steps: {
              type: 'array',
              description: '/tcp/exchange and /udp/exchange only: the steps completed before a fault.',
              anyOf: [EXCHANGE_STEP_RESULTS_SCHEMA, UDP_STEP_RESULTS_SCHEMA],
            },
          },
        },
      },
    },
  };
}
