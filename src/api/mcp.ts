// POST /mcp: a Model Context Protocol server over Streamable HTTP, stateless (every request stands alone, as
// on hosts that make an instance per request), answering application/json, with one tool: tcp_exchange.

import { jsonResponse } from '../http/responses.js';
import { ServiceError } from '../core/errors.js';
import { readExchangeBody, runExchange } from './exchange.js';
import { runUdpExchange } from './udp.js';
import { UDP_EXCHANGE_REQUEST_SCHEMA, UDP_EXCHANGE_RESPONSE_SCHEMA } from './udp-schema.js';
import { EXCHANGE_RESPONSE_SCHEMA, MAX_STEPS, exchangeRequestSchema } from './exchange-schema.js';
import type { Secret } from '../net/secrets.js';
import type { RequestContext } from './context.js';
import { VERSION } from '../core/version.js';
import { headerMismatch } from './mcp-headers.js';

/** Versions with the initialize handshake, newest first: an initialize asking for another gets the newest. */
const HANDSHAKE_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'];
/** The stateless revision: no initialize; every request names its version in `_meta`. */
const STATELESS_VERSION = '2026-07-28';
export const MCP_PROTOCOL_VERSIONS = [STATELESS_VERSION, ...HANDSHAKE_VERSIONS];
const META_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';

/** JSON-RPC and MCP error codes. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
/** 2026-07-28: the request's headers do not repeat its body (Mcp-Method, Mcp-Name, MCP-Protocol-Version). */
const HEADER_MISMATCH = -32020;
const UNSUPPORTED_PROTOCOL_VERSION = -32022;

const SERVER_INFO = { name: 'ai-agent-sockets', title: 'Raw TCP for agents', version: VERSION };
const INSTRUCTIONS =
  'Use tcp_exchange to talk to a TCP service (Redis, SMTP, memcached, a line protocol, a binary protocol) on one connection. Each step sends bytes (optional) and reads a reply; end each read with `until` (the protocol terminator, e.g. {"text":"\\r\\n"}) or `bytes` when you know it, otherwise the read ends after a quiet gap. Use udp_exchange for datagrams (DNS, NTP, syslog, statsd): each step sends datagrams and collects the replies from that address. Destinations are limited by the server\'s policy; a refused destination comes back as an error result with its code.';

const TOOL_NAME = 'tcp_exchange';
const UDP_TOOL_NAME = 'udp_exchange';

/** What both tools do, as MCP annotations: they reach the open world and may change it. */
const TOOL_ANNOTATIONS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };

/** The UDP tool: the same for every caller (no secrets go over UDP). */
const UDP_TOOL = {
  name: UDP_TOOL_NAME,
  title: 'UDP exchange',
  description:
    `Send datagrams to one UDP host:port and collect its replies, in up to ${MAX_STEPS} steps on one socket. Each step sends zero or more datagrams ` +
    '({"text": "..."}, {"base64": "..."} or {"hex": "..."} each), then collects the datagrams that come back from that address (never from any other) until `count` of them, ' +
    'a quiet gap (`idle_ms`, the default) or the deadline. Example, a DNS query for example.com A: ' +
    '{"host": "127.0.0.1", "port": 53, "steps": [{"send": [{"hex": "123401000001000000000000076578616d706c6503636f6d0000010001"}], "count": 1}]}. ' +
    'The result lists each step\'s datagrams (text when UTF-8, else base64) with their size and arrival time, and why collecting ended (count, idle, deadline, limit). ' +
    'Errors (destination-denied, connection-refused: ICMP port unreachable, …) come back as an error result with a code.',
  inputSchema: UDP_EXCHANGE_REQUEST_SCHEMA,
  outputSchema: UDP_EXCHANGE_RESPONSE_SCHEMA,
  annotations: TOOL_ANNOTATIONS,
};

const TOOL_DESCRIPTION =
  `Open one TCP connection to host:port and run up to ${MAX_STEPS} steps on it. Each step optionally sends bytes (` +
    '{"text": "..."} for UTF-8, {"base64": "..."} or {"hex": "..."} for binary), then reads a reply that ends right after `until` bytes, after exactly `bytes` bytes, ' +
    'after a quiet gap (`idle_ms`, the default), or when the peer closes. Example, a greeting line protocol: ' +
    '{"host": "127.0.0.1", "port": 25, "steps": [{"until": {"text": "\\r\\n"}}, {"send": {"text": "HELO me\\r\\n"}, "until": {"text": "\\r\\n"}}]}. ' +
    'Redis: {"host": "127.0.0.1", "port": 6379, "steps": [{"send": {"text": "PING\\r\\n"}, "until": {"text": "\\r\\n"}}]}. ' +
    'STARTTLS: a step with {"starttls": true} upgrades the connection before it sends; one that sends nothing and gives no until, bytes or idle_ms reads nothing (end: none), since a STARTTLS server speaks after the handshake only when the client does, e.g. [{"until": {"text": "\\r\\n"}}, {"send": {"text": "STARTTLS\\r\\n"}, "until": {"text": "\\r\\n"}}, {"starttls": true}, {"send": {"text": "EHLO me\\r\\n"}, "until": {"text": "\\r\\n"}}]. ' +
    'The result lists each step\'s reply (text when UTF-8, else base64), why it ended (until, bytes, idle, closed, limit, deadline), its size and time. ' +
    'Errors (destination-denied, connection-refused, read-timeout, …) come back as an error result with a code and the steps completed before the error.';

/** The tool as a caller without secrets sees it: the same for every such caller. */
const TOOL_WITHOUT_SECRETS = toolShowing([]);

/**
 * The tool as one caller sees it: the secrets it may use by name and destination (never a value) in its
 * description, and exactly their names in the input schema.
 */
function toolShowing(secrets: readonly Secret[]) {
  return {
    name: TOOL_NAME,
    title: 'TCP exchange',
    description: TOOL_DESCRIPTION + secretsDescription(secrets),
    inputSchema: exchangeRequestSchema(secrets.map((secret) => secret.name)),
    outputSchema: EXCHANGE_RESPONSE_SCHEMA,
    annotations: TOOL_ANNOTATIONS,
  };
}

/** What the description tells a caller of its secrets: each name, where it may go and whether only over TLS. */
function secretsDescription(secrets: readonly Secret[]): string {
  if (secrets.length === 0) return '';
  const each = secrets.map((secret) => {
    const tls = secret.requireTls === true ? 'TLS required' : secret.requireTls === false ? 'TLS not required' : 'TLS required except to loopback';
    return `${secret.name} (to ${secret.destinations.map((entry) => entry.text).join(', ')}; ${tls})`;
  });
  return (
    ` Secrets you may send without seeing them: ${each.join('; ')}. Give a step's send as a list of parts and name the secret in one, e.g. ` +
    `{"send": [{"text": "AUTH "}, {"secret": "${secrets[0]!.name}"}, {"text": "\\r\\n"}], "until": {"text": "\\r\\n"}}: its value is put in only when sent, only to its destinations, and a reply that holds it shows [secret:NAME] instead (the result says redacted).`
  );
}

/** The tool for the request's caller. */
function toolFor(c: RequestContext) {
  const secrets = c.usableSecrets();
  return secrets.length === 0 ? TOOL_WITHOUT_SECRETS : toolShowing(secrets);
}

type Id = string | number | null;
interface Message {
  jsonrpc: '2.0';
  id?: Id;
  method?: string;
  params?: Record<string, unknown>;
}

/** A JSON-RPC error, with the HTTP status 2026-07-28 gives it (older revisions answer every JSON-RPC error with 200). */
class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
    readonly status = 200,
  ) {
    super(message);
  }
}

/** A JSON-RPC error response; `id` undefined leaves it out (2026-07-28 has no null id: an unreadable one is omitted). */
const rpcError = (id: Id | undefined, code: number, message: string, data?: unknown) => ({
  jsonrpc: '2.0',
  ...(id === undefined ? {} : { id }),
  error: data === undefined ? { code, message } : { code, message, data },
});

/** One message's answer and the HTTP status it goes with when it is the only one. */
interface Answer {
  body: unknown;
  status: number;
}

/** Handles one HTTP request to /mcp (auth, Origin and Host have been checked by the app). */
export async function handleMcp(c: RequestContext): Promise<Response> {
  const { request } = c;
  const headerVersion = request.headers.get('mcp-protocol-version');
  const stateless = headerVersion === STATELESS_VERSION;
  // The id an answer carries when the message's own cannot be read: none in 2026-07-28, null before.
  const unreadable = stateless ? undefined : null;
  const bytes = await readExchangeBody(request, c.limits.maxMessageBytes);
  let parsed: unknown;
  let parseFailed = false;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    parseFailed = true;
  }
  if (headerVersion !== null && !MCP_PROTOCOL_VERSIONS.includes(headerVersion)) {
    const requested = headerVersion.slice(0, 40);
    const message = `unsupported MCP-Protocol-Version ${JSON.stringify(requested)}; supported: ${MCP_PROTOCOL_VERSIONS.join(', ')}`;
    return jsonResponse(rpcError(readableId(parsed) ?? unreadable, UNSUPPORTED_PROTOCOL_VERSION, message, { supported: MCP_PROTOCOL_VERSIONS, requested }), 400);
  }
  if (parseFailed) return jsonResponse(rpcError(unreadable, PARSE_ERROR, 'Parse error: the body is not valid JSON'), 400);
  const batch = Array.isArray(parsed);
  const messages = batch ? (parsed as unknown[]) : [parsed];
  if (batch) {
    const refused = batchRefusal(messages, headerVersion);
    if (refused) return jsonResponse(rpcError(unreadable, INVALID_REQUEST, `Invalid Request: ${refused}`), 400);
  }
  const answers: Answer[] = [];
  for (const message of messages) {
    if (!isMessage(message)) {
      answers.push({ body: rpcError(readableId(message) ?? unreadable, INVALID_REQUEST, 'Invalid Request: expected a JSON-RPC 2.0 message'), status: 400 });
      continue;
    }
    // Notifications and responses need no answer.
    if (message.method === undefined || message.id === undefined) continue;
    answers.push(answer(message as Message & { method: string; id: Id }, c));
  }
  if (answers.length === 0) return new Response(null, { status: 202 });
  if (batch) return jsonResponse(answers.map((a) => a.body), 200);
  return jsonResponse(answers[0]!.body, answers[0]!.status);
}

/** The id of a message that may not be well-formed, when it is a string or a number. */
function readableId(message: unknown): Id | undefined {
  const id = typeof message === 'object' && message !== null && 'id' in message ? (message as { id: unknown }).id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/** The one revision with JSON-RPC batches; 2025-06-18 removed them, and a request without the header is read as this one. */
const BATCH_VERSION = '2025-03-26';

/** Why a batch is refused, or undefined when it may be answered: under 2025-03-26 only, and made of messages only. */
function batchRefusal(messages: unknown[], headerVersion: string | null): string | undefined {
  if (headerVersion !== null && headerVersion !== BATCH_VERSION) {
    return `a JSON-RPC batch under MCP-Protocol-Version ${headerVersion}: batches exist only in ${BATCH_VERSION} (removed in 2025-06-18); send one message per request`;
  }
  if (messages.length === 0) return 'an empty batch';
  if (!messages.every(isMessage)) return 'every member of a batch must be a JSON-RPC 2.0 message';
  if ((messages as Message[]).some((m) => META_VERSION in metaOf(m.params ?? {}))) return `a JSON-RPC batch of ${STATELESS_VERSION} messages: batches exist only in ${BATCH_VERSION}`;
  return undefined;
}

function isMessage(value: unknown): value is Message {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return false;
  if ('id' in m && typeof m.id !== 'string' && typeof m.id !== 'number') return false;
  if ('method' in m && typeof m.method !== 'string') return false;
  if ('params' in m && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) return false;
  return 'method' in m || 'result' in m || 'error' in m;
}

const metaOf = (params: Record<string, unknown>) => (typeof params._meta === 'object' && params._meta !== null ? params._meta : {}) as Record<string, unknown>;

function answer(message: Message & { method: string; id: Id }, c: RequestContext): Answer {
  const { headers } = c.request;
  try {
    const params = message.params ?? {};
    const headerVersion = headers.get('mcp-protocol-version');
    // A request of the stateless revision: its header says so, or its _meta does (then the header must agree).
    if (headerVersion === STATELESS_VERSION || META_VERSION in metaOf(params)) {
      checkStatelessRequest(message, params, headers);
      return { body: { jsonrpc: '2.0', id: message.id, result: statelessResult(message.method, params, c) }, status: 200 };
    }
    return { body: { jsonrpc: '2.0', id: message.id, result: handshakeResult(message.method, params, c) }, status: 200 };
  } catch (error) {
    if (error instanceof RpcError) return { body: rpcError(message.id, error.code, error.message, error.data), status: error.status };
    throw error;
  }
}

/** The revisions with the initialize handshake (2025-03-26 to 2025-11-25): their methods and results, unchanged. */
function handshakeResult(method: string, params: Record<string, unknown>, c: RequestContext): Record<string, unknown> {
  switch (method) {
    case 'initialize': {
      const asked = typeof params.protocolVersion === 'string' ? params.protocolVersion : '';
      const protocolVersion = HANDSHAKE_VERSIONS.includes(asked) ? asked : HANDSHAKE_VERSIONS[0];
      return { protocolVersion, capabilities: { tools: { listChanged: false } }, serverInfo: SERVER_INFO, instructions: INSTRUCTIONS };
    }
    case 'server/discover':
      return { resultType: 'complete', supportedVersions: MCP_PROTOCOL_VERSIONS, capabilities: { tools: {} }, serverInfo: SERVER_INFO, instructions: INSTRUCTIONS };
    case 'ping':
      return {};
    case 'tools/list':
      return { tools: [toolFor(c), UDP_TOOL] };
    case 'tools/call':
      return callNamedTool(params, c);
    default:
      throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${method.slice(0, 100)}`);
  }
}

/**
 * How long a client or a shared cache may keep tools/list and server/discover (2026-07-28 caching hints): they
 * change only with a new release of this server or its settings. server/discover is the same for every caller;
 * tools/list too, unless SECRETS is set: then each caller is shown its own secrets, and no shared cache may keep it.
 */
const LIST_TTL_MS = 3_600_000;
const CACHE_HINTS = { ttlMs: LIST_TTL_MS, cacheScope: 'public' };
const cacheHintsOfToolsList = (c: RequestContext) => (c.settings.secrets.size > 0 ? { ...CACHE_HINTS, cacheScope: 'private' } : CACHE_HINTS);

/** 2026-07-28: no initialize and no ping; every result says it is complete and who answered. */
function statelessResult(method: string, params: Record<string, unknown>, c: RequestContext): Record<string, unknown> {
  const complete = (result: Record<string, unknown>) => ({ resultType: 'complete', ...result, _meta: { [META_SERVER_INFO]: SERVER_INFO } });
  switch (method) {
    case 'server/discover':
      return complete({ supportedVersions: MCP_PROTOCOL_VERSIONS, capabilities: { tools: {} }, instructions: INSTRUCTIONS, ...CACHE_HINTS });
    case 'tools/list':
      return complete({ tools: [toolFor(c), UDP_TOOL], ...cacheHintsOfToolsList(c) });
    case 'tools/call':
      return complete(callNamedTool(params, c));
    default: {
      // The transport answers a method it does not implement with 404; initialize and ping were removed in this revision.
      const removed = method === 'initialize' || method === 'ping' ? ` (${method} does not exist in ${STATELESS_VERSION}; older revisions still have it)` : '';
      throw new RpcError(METHOD_NOT_FOUND, `Method not found: ${method.slice(0, 100)}${removed}`, undefined, 404);
    }
  }
}

function callNamedTool(params: Record<string, unknown>, c: RequestContext): Record<string, unknown> {
  const args = params.arguments ?? {};
  if (params.name === TOOL_NAME) return callTool(() => runExchange(args, c));
  if (params.name === UDP_TOOL_NAME) return callTool(() => runUdpExchange(args, c));
  throw new RpcError(INVALID_PARAMS, `Unknown tool: ${JSON.stringify(params.name)}; the tools are ${TOOL_NAME} and ${UDP_TOOL_NAME}`);
}

/**
 * What 2026-07-28 asks of every request before it is served: `_meta` with the version and capabilities, the
 * MCP-Protocol-Version header naming the same version, and Mcp-Method / Mcp-Name repeating the body. Each
 * refusal is a 400 (transport spec, "Server Validation").
 */
function checkStatelessRequest(message: Message & { method: string }, params: Record<string, unknown>, headers: Headers): void {
  const meta = metaOf(params);
  const version = meta[META_VERSION];
  if (typeof version !== 'string' || typeof meta[META_CAPABILITIES] !== 'object' || meta[META_CAPABILITIES] === null) {
    throw new RpcError(INVALID_PARAMS, `_meta must carry ${META_VERSION} (a string) and ${META_CAPABILITIES} (an object)`, undefined, 400);
  }
  const headerVersion = headers.get('mcp-protocol-version');
  if (headerVersion === null && version !== STATELESS_VERSION) {
    throw new RpcError(UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version ${JSON.stringify(version.slice(0, 40))}`, { supported: [STATELESS_VERSION], requested: version.slice(0, 40) }, 400);
  }
  if (headerVersion !== version) {
    const why = headerVersion === null ? 'the MCP-Protocol-Version header is missing' : `MCP-Protocol-Version header value ${JSON.stringify(headerVersion)} does not match`;
    throw new RpcError(HEADER_MISMATCH, `Header mismatch: ${why}; _meta ${META_VERSION} is ${JSON.stringify(version.slice(0, 40))}`, undefined, 400);
  }
  const mismatch = headerMismatch(headers, message.method, params);
  if (mismatch) throw new RpcError(HEADER_MISMATCH, `Header mismatch: ${mismatch}`, undefined, 400);
}

/** Runs the exchange; a refused, denied or failed exchange is a tool error result carrying the code, not a JSON-RPC error. */
function callTool(run: () => object): Record<string, unknown> {
  let answer: object;
  try {
    answer = run();
  } catch (error) {
    if (!(error instanceof ServiceError) || error.code === 'internal') throw error;
    const body = { error: { code: error.code, message: error.message }, ...error.extra };
    return { content: [{ type: 'text', text: JSON.stringify(body) }], isError: true };
  }
  return { content: [{ type: 'text', text: JSON.stringify(answer) }], structuredContent: answer, isError: false };
}
