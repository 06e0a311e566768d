// POST /mcp per protocol revision, through the app with a fake network: what 2026-07-28 requires (request
// metadata headers, removed methods, caching hints) and that the handshake revisions keep their behaviour.

import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { decodeHeaderValue } from '../../src/api/mcp-headers.js';
import { Config } from '../../src/settings/config.js';
import { fakeNetwork, reply } from '../support/fake-network.js';

const STATELESS = '2026-07-28';
const meta = { 'io.modelcontextprotocol/protocolVersion': STATELESS, 'io.modelcontextprotocol/clientCapabilities': {} };
const tcpArguments = { host: '127.0.0.1', port: 7, steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }] };

/** The parts of an answer these tests read. */
interface RpcBody {
  id?: unknown;
  result: {
    resultType?: string;
    tools: { name: string }[];
    structuredContent: { steps: { reply: { text: string } }[] };
    isError?: boolean;
    serverInfo?: unknown;
    _meta: { 'io.modelcontextprotocol/serverInfo': { name: string } };
  };
  error: { code: number; message: string; data?: unknown };
}

function mcpApp() {
  const fake = fakeNetwork({ peers: { '127.0.0.1:7': reply('+PONG\r\n') } });
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*' });
  const app = createApp({ config: () => config, network: fake.network });
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await app(
      new Request('http://component.local/mcp', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }),
    );
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as RpcBody) };
  };
  return { post, calls: fake.calls };
}

/** A 2026-07-28 request with the headers a conforming client sends; `headers` replaces or (undefined) drops some. */
function statelessRequest(method: string, params: Record<string, unknown> = {}, headers: Record<string, string | undefined> = {}) {
  const name = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  const all: Record<string, string | undefined> = { 'mcp-protocol-version': STATELESS, 'mcp-method': method, ...name, ...headers };
  const sent = Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return [{ jsonrpc: '2.0', id: 7, method, params: { _meta: meta, ...params } }, sent] as const;
}

describe('POST /mcp under 2026-07-28', () => {
  const { post, calls } = mcpApp();

  test('tools/list carries resultType, the caching hints ttlMs and cacheScope, and serverInfo in _meta', async () => {
    const r = await post(...statelessRequest('tools/list'));
    expect(r.status).toBe(200);
    expect(r.body!.result).toMatchObject({ resultType: 'complete', ttlMs: 3_600_000, cacheScope: 'public', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'ai-agent-sockets' } } });
    expect(r.body!.result.tools.map((t: { name: string }) => t.name)).toEqual(['tcp_exchange', 'udp_exchange']);
  });

  test('server/discover carries the caching hints and names the server in _meta, not in the result body', async () => {
    const r = await post(...statelessRequest('server/discover'));
    expect(r.body!.result).toMatchObject({ resultType: 'complete', ttlMs: 3_600_000, cacheScope: 'public', supportedVersions: [STATELESS, '2025-11-25', '2025-06-18', '2025-03-26'] });
    expect(r.body!.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('ai-agent-sockets');
    expect(r.body!.result.serverInfo).toBeUndefined();
  });

  test('tools/call with matching headers runs the tool', async () => {
    const r = await post(...statelessRequest('tools/call', { name: 'tcp_exchange', arguments: tcpArguments }));
    expect([r.status, r.body!.result.resultType, r.body!.result.structuredContent.steps[0]!.reply.text]).toEqual([200, 'complete', '+PONG\r\n']);
  });

  test.each(['ping', 'initialize', 'logging/setLevel', 'resources/subscribe', 'no/such'])('%s is 404 with -32601 Method not found, carrying the request id', async (method) => {
    const r = await post(...statelessRequest(method));
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ id: 7, error: { code: -32601 } });
    expect(r.body!.error.message).toContain(`Method not found: ${method}`);
  });

  test('ping names why it is gone', async () => {
    const r = await post(...statelessRequest('ping'));
    expect(r.body!.error.message).toBe('Method not found: ping (ping does not exist in 2026-07-28; older revisions still have it)');
  });

  test.each([
    ['a missing Mcp-Method', 'tools/list', {}, { 'mcp-method': undefined }, "the Mcp-Method header is missing; it must repeat the body's method \"tools/list\""],
    ['an Mcp-Method naming another method', 'tools/list', {}, { 'mcp-method': 'tools/call' }, 'Mcp-Method header value "tools/call" does not match body value "tools/list"'],
    ['an Mcp-Method in another case (values are case-sensitive)', 'tools/list', {}, { 'mcp-method': 'TOOLS/LIST' }, 'Mcp-Method header value "TOOLS/LIST" does not match body value "tools/list"'],
    ['a missing Mcp-Name on tools/call', 'tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': undefined }, "the Mcp-Name header is missing; it must repeat the body's params.name \"tcp_exchange\""],
    ['an Mcp-Name naming another tool', 'tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': 'other_tool' }, 'Mcp-Name header value "other_tool" does not match body value "tcp_exchange"'],
    ['an encoded Mcp-Name naming another tool', 'tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': `=?base64?${btoa('other_tool')}?=` }, 'Mcp-Name header value "other_tool" does not match body value "tcp_exchange"'],
    ['an encoded Mcp-Name without its padding', 'tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': '=?base64?SGVsbG8?=' }, 'Mcp-Name header "=?base64?SGVsbG8?=" is not valid base64 between =?base64? and ?= (standard alphabet, with padding)'],
    ['an encoded Mcp-Name with characters outside base64', 'tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': '=?base64?SGVs!!!bG8=?=' }, 'Mcp-Name header "=?base64?SGVs!!!bG8=?=" is not valid base64 between =?base64? and ?= (standard alphabet, with padding)'],
    ['a plain Mcp-Name outside visible ASCII', 'tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': 'tcp_\u00e9xchange' }, 'Mcp-Name header value "tcp_\u00e9xchange" has characters outside visible ASCII; send such a value as =?base64?…?='],
    ['an Mcp-Name when the body names no tool', 'tools/call', { arguments: tcpArguments }, { 'mcp-name': 'tcp_exchange' }, 'Mcp-Name header value "tcp_exchange" does not match body value (params.name is not a string)'],
    ['a header version other than _meta\'s', 'tools/list', {}, { 'mcp-protocol-version': '2025-11-25' }, 'MCP-Protocol-Version header value "2025-11-25" does not match; _meta io.modelcontextprotocol/protocolVersion is "2026-07-28"'],
    ['no MCP-Protocol-Version header', 'tools/list', {}, { 'mcp-protocol-version': undefined }, 'the MCP-Protocol-Version header is missing; _meta io.modelcontextprotocol/protocolVersion is "2026-07-28"'],
  ])('%s is 400 with -32020 HeaderMismatch saying what differs, and runs nothing', async (_, method, params, headers, message) => {
    const before = calls.length;
    const r = await post(...statelessRequest(method, params, headers));
    expect([r.status, r.body!.id, r.body!.error.code, r.body!.error.message]).toEqual([400, 7, -32020, `Header mismatch: ${message}`]);
    expect(calls.length).toBe(before);
  });

  test('an encoded Mcp-Name that decodes to the tool name is accepted, as is one with spaces around it', async () => {
    for (const name of [`=?base64?${btoa('tcp_exchange')}?=`, '  tcp_exchange  ']) {
      const r = await post(...statelessRequest('tools/call', { name: 'tcp_exchange', arguments: tcpArguments }, { 'mcp-name': name }));
      expect([name, r.status, r.body!.result?.isError]).toEqual([name, 200, false]);
    }
  });

  test('a header naming a version the server does not speak is 400 -32022, with the request id, the supported versions and the one asked for', async () => {
    const [body] = statelessRequest('server/discover');
    const r = await post({ ...body, params: { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } } }, { 'mcp-protocol-version': 'v999.0.0', 'mcp-method': 'server/discover' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ id: 7, error: { code: -32022, data: { supported: [STATELESS, '2025-11-25', '2025-06-18', '2025-03-26'], requested: 'v999.0.0' } } });
  });

  test('the 2026-07-28 header with another version in _meta is a HeaderMismatch, not an unsupported version', async () => {
    const [body, headers] = statelessRequest('server/discover');
    const r = await post({ ...body, params: { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } } }, headers);
    expect([r.status, r.body!.error.code]).toEqual([400, -32020]);
  });

  test.each([
    ['no _meta', {}],
    ['_meta without the protocol version', { 'io.modelcontextprotocol/clientCapabilities': {} }],
    ['_meta without client capabilities', { 'io.modelcontextprotocol/protocolVersion': STATELESS }],
  ])('%s is 400 with -32602', async (_, requestMeta) => {
    const r = await post({ jsonrpc: '2.0', id: 9, method: 'server/discover', params: { _meta: requestMeta } }, { 'mcp-protocol-version': STATELESS, 'mcp-method': 'server/discover' });
    expect([r.status, r.body!.id, r.body!.error.code]).toEqual([400, 9, -32602]);
    expect(r.body!.error.message).toContain('_meta must carry io.modelcontextprotocol/protocolVersion');
  });

  test('an unreadable body under 2026-07-28 is -32700 with no id (the revision has no null id)', async () => {
    const { status, body } = await post('{', { 'mcp-protocol-version': STATELESS });
    expect(status).toBe(400);
    expect(body).toEqual({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
  });
});

describe.each([
  ['without MCP-Protocol-Version (read as 2025-03-26)', {}],
  ['under 2025-06-18', { 'mcp-protocol-version': '2025-06-18' }],
  ['under 2025-11-25', { 'mcp-protocol-version': '2025-11-25' }],
])('POST /mcp %s keeps the handshake revision', (_, versionHeader: Record<string, string>) => {
  const { post } = mcpApp();

  test('ping is answered with an empty result', async () => {
    expect(await post({ jsonrpc: '2.0', id: 1, method: 'ping' }, versionHeader)).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 1, result: {} } });
  });

  test('tools/list has neither caching hints nor resultType', async () => {
    const r = await post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, versionHeader);
    expect(Object.keys(r.body!.result)).toEqual(['tools']);
  });

  test('Mcp-Method and Mcp-Name, which these revisions do not define, are not checked', async () => {
    const r = await post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tcp_exchange', arguments: tcpArguments } }, { ...versionHeader, 'mcp-method': 'tools/list', 'mcp-name': 'other' });
    expect([r.status, r.body!.result.isError]).toEqual([200, false]);
  });

  test('an unknown method is -32601 with status 200', async () => {
    const r = await post({ jsonrpc: '2.0', id: 1, method: 'no/such' }, versionHeader);
    expect([r.status, r.body!.error.code]).toEqual([200, -32601]);
  });
});

describe('decodeHeaderValue(value)', () => {
  test.each([
    ['us-west1', 'us-west1'],
    ['=?base64?SGVsbG8sIOS4lueVjA==?=', 'Hello, 世界'],
    ['=?base64?IHBhZGRlZCA=?=', ' padded '],
    ['=?base64?bGluZTEKbGluZTI=?=', 'line1\nline2'],
    ['=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=', '=?base64?literal?='],
    // The markers are exact and lowercase: anything else is a literal value.
    ['=?BASE64?SGVsbG8=?=', '=?BASE64?SGVsbG8=?='],
    ['=?base64?SGVsbG8=', '=?base64?SGVsbG8='],
    ['SGVsbG8=', 'SGVsbG8='],
  ])('%j is %j (the transport spec\'s examples)', (header, value) => {
    expect(decodeHeaderValue(header)).toBe(value);
  });

  test.each([
    ['=?base64?SGVsbG8?=', 'not valid base64'],
    ['=?base64?/w==?=', 'does not decode to UTF-8 text'],
    ['a\u0001b', 'characters outside visible ASCII'],
  ])('%j is refused: %s', (header, problem) => {
    const decoded = decodeHeaderValue(header);
    expect(typeof decoded === 'string' ? decoded : decoded.problem).toContain(problem);
  });
});
