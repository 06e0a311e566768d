// The MCP server of the built component, driven by the official MCP TypeScript SDK client and by raw
// JSON-RPC, on every host, against real peers on loopback.

import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exchangeRequestSchema } from '../../src/api/exchange-schema.js';
import { UDP_EXCHANGE_REQUEST_SCHEMA } from '../../src/api/udp-schema.js';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { get } from '../support/http.js';
import { greetingPeer, keepOpenPeer, type Peer } from '../support/peers.js';

const TOKEN = 'mcp-e2e-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
/** A browser MCP client's page, let in by ALLOWED_ORIGINS. */
const INSPECTOR = 'https://inspector.example';

/** POST /mcp with a Host of the caller's choosing (fetch sets its own). */
function postWithHost(url: string, host: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/mcp`, { method: 'POST', headers: { ...auth, host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' } }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.once('error', reject);
    request.end(body);
  });
}

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('MCP on ', kind), () => {
    let host: RunningHost;
    let greeting: Peer;
    let redis: Peer;
    let client: Client;
    const rpc = (body: unknown, headers: Record<string, string> = {}) =>
      get(host.url, '/mcp', {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { ...auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      });
    const statelessMeta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };

    beforeAll(async () => {
      [greeting, redis] = await Promise.all([greetingPeer(), keepOpenPeer()]);
      host = await kind.start({ ALLOWED_TARGETS: '127.0.0.0/8:*', AUTH_TOKEN: TOKEN, REQUEST_DEADLINE_MS: '3000', ALLOWED_ORIGINS: INSPECTOR });
      client = new Client({ name: 'e2e', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${host.url}/mcp`), { requestInit: { headers: auth } }));
    });
    afterAll(async () => {
      await client?.close();
      await host?.close();
      await Promise.all([greeting?.close(), redis?.close()]);
    });

    test('the SDK client connects and sees the server', () => {
      expect(client.getServerVersion()?.name).toBe('ai-agent-sockets');
      expect(client.getServerCapabilities()?.tools).toBeDefined();
    });

    test('tools/list offers tcp_exchange, whose input schema is the /tcp/exchange body schema, and udp_exchange', async () => {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['tcp_exchange', 'udp_exchange']);
      // A caller without secrets is shown the schema whose parts are bytes only.
      expect(tools[0]!.inputSchema).toEqual(JSON.parse(JSON.stringify(exchangeRequestSchema([]))));
      expect(tools[0]!.description).toContain('until');
      expect(tools[1]!.inputSchema).toEqual(JSON.parse(JSON.stringify(UDP_EXCHANGE_REQUEST_SCHEMA)));
    });

    test('tools/call runs a dialogue against a real peer: the answer as text and as structuredContent', async () => {
      const result = await client.callTool({
        name: 'tcp_exchange',
        arguments: { host: '127.0.0.1', port: greeting.port, steps: [{ until: { text: '\r\n' } }, { send: { text: 'HELO agent\r\n' }, until: { text: '\r\n' } }] },
      });
      expect(result.isError).toBe(false);
      const structured = result.structuredContent as { peer: string; steps: { reply: { text: string }; end: string }[] };
      expect(structured.peer).toBe(`127.0.0.1:${greeting.port}`);
      expect(structured.steps.map((s) => s.reply.text)).toEqual(['220 ready\r\n', '250 HELO agent\r\n']);
      expect(JSON.parse((result.content as { text: string }[])[0]!.text)).toEqual(structured);
    });

    test('a denied destination comes back as a tool error with its code, not a JSON-RPC error', async () => {
      const result = await client.callTool({ name: 'tcp_exchange', arguments: { host: '169.254.169.254', port: 80, steps: [{ send: { text: 'x' } }] } });
      expect(result.isError).toBe(true);
      expect(JSON.parse((result.content as { text: string }[])[0]!.text).error.code).toBe('destination-denied');
    });

    test('invalid arguments come back as a tool error naming the field', async () => {
      const result = await client.callTool({ name: 'tcp_exchange', arguments: { host: '127.0.0.1', port: greeting.port, steps: [{ send: { hex: 'zz' } }] } });
      expect(result.isError).toBe(true);
      const body = JSON.parse((result.content as { text: string }[])[0]!.text);
      expect(body.error.code).toBe('invalid-body');
      expect(body.error.message).toBe('steps/0/send/hex: is not valid hex (pairs of hex digits) (the schema is in GET /openapi.json)');
    });

    test('ping answers an empty result', async () => {
      expect(await client.ping()).toEqual({});
    });

    test.each(['2025-03-26', '2025-06-18', '2025-11-25'])('initialize with protocol version %s is answered with that version', async (version) => {
      const r = await rpc({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.text).result.protocolVersion).toBe(version);
    });

    test('2026-07-28: server/discover and a tools/call with per-request _meta and the request headers, no initialize', async () => {
      const version = { 'mcp-protocol-version': '2026-07-28' };
      const discover = JSON.parse((await rpc({ jsonrpc: '2.0', id: 'd', method: 'server/discover', params: { _meta: statelessMeta } }, { ...version, 'mcp-method': 'server/discover' })).text);
      expect(discover.result.supportedVersions).toContain('2026-07-28');
      expect(discover.result.resultType).toBe('complete');
      const call = JSON.parse(
        (
          await rpc(
            { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { _meta: statelessMeta, name: 'tcp_exchange', arguments: { host: '127.0.0.1', port: redis.port, steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }] } } },
            { ...version, 'mcp-method': 'tools/call', 'mcp-name': 'tcp_exchange' },
          )
        ).text,
      );
      expect(call.result.resultType).toBe('complete');
      expect(call.result.structuredContent.steps[0].reply.text).toBe('+PONG\r\n');
    });

    test('2026-07-28: tools/list carries the caching hints ttlMs and cacheScope', async () => {
      const r = await rpc({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: { _meta: statelessMeta } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
      expect(JSON.parse(r.text).result).toMatchObject({ resultType: 'complete', ttlMs: 3_600_000, cacheScope: 'public' });
    });

    test('2026-07-28: an Mcp-Method header that says another method than the body is 400 with -32020, and nothing runs', async () => {
      const before = redis.received.length;
      const r = await rpc(
        { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { _meta: statelessMeta, name: 'tcp_exchange', arguments: { host: '127.0.0.1', port: redis.port, steps: [{ send: { text: 'PING\r\n' } }] } } },
        { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list', 'mcp-name': 'tcp_exchange' },
      );
      expect(r.status).toBe(400);
      expect(JSON.parse(r.text).error).toEqual({ code: -32020, message: 'Header mismatch: Mcp-Method header value "tools/list" does not match body value "tools/call"' });
      expect(redis.received.length).toBe(before);
    });

    test('2026-07-28: ping is 404 with -32601, while the handshake revisions keep it', async () => {
      const removed = await rpc({ jsonrpc: '2.0', id: 6, method: 'ping', params: { _meta: statelessMeta } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'ping' });
      expect([removed.status, JSON.parse(removed.text).error.code]).toEqual([404, -32601]);
      const kept = await rpc({ jsonrpc: '2.0', id: 7, method: 'ping' }, { 'mcp-protocol-version': '2025-11-25' });
      expect([kept.status, JSON.parse(kept.text).result]).toEqual([200, {}]);
    });

    test('2026-07-28: an unsupported version in _meta is error -32022 listing the supported one', async () => {
      const r = JSON.parse((await rpc({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: { ...statelessMeta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } } })).text);
      expect(r.error.code).toBe(-32022);
      expect(r.error.data.supported).toEqual(['2026-07-28']);
    });

    test.each([
      ['without MCP-Protocol-Version (read as 2025-03-26)', {}],
      ['under 2025-03-26', { 'mcp-protocol-version': '2025-03-26' }],
    ])('a JSON-RPC batch %s is answered with the responses to its requests, in order', async (_, headers) => {
      const batch = [
        { jsonrpc: '2.0', id: 'a', method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 'b', method: 'tools/list' },
      ];
      const r = await rpc(batch, headers);
      expect(r.status).toBe(200);
      const answers = JSON.parse(r.text) as { id: string; result: Record<string, unknown> }[];
      expect(answers.map((a) => a.id)).toEqual(['a', 'b']);
      expect(answers[1]!.result.tools).toHaveLength(2);
    });

    test('a notification is accepted with 202 and no body', async () => {
      const r = await rpc({ jsonrpc: '2.0', method: 'notifications/initialized' });
      expect(r.status).toBe(202);
      expect(r.text).toBe('');
    });

    test('GET /mcp is 405: there is no server-sent stream', async () => {
      const r = await get(host.url, '/mcp', { headers: { ...auth, accept: 'text/event-stream' } });
      expect(r.status).toBe(405);
    });

    test('a page at an ALLOWED_ORIGINS origin is answered with CORS headers, its preflight too; another origin is 403 origin-denied', async () => {
      const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const allowed = await fetch(`${host.url}/mcp`, { method: 'POST', body: list, headers: { ...auth, origin: INSPECTOR, 'content-type': 'application/json' } });
      expect([allowed.status, allowed.headers.get('access-control-allow-origin')]).toEqual([200, INSPECTOR]);
      const preflight = await fetch(`${host.url}/mcp`, { method: 'OPTIONS', headers: { origin: INSPECTOR, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
      expect([preflight.status, preflight.headers.get('access-control-allow-headers')]).toEqual([204, 'authorization, content-type']);
      const foreign = await get(host.url, '/mcp', { method: 'POST', body: list, headers: { ...auth, origin: 'https://evil.example', 'content-type': 'application/json' } });
      expect([foreign.status, foreign.code]).toEqual([403, 'origin-denied']);
      expect(foreign.text).toContain('Origin \\"https://evil.example\\" is not allowed');
    });

    // Spin is not told where it listens (no listen_address here): it checks no Host, as documented.
    test.skipIf(kind.name.startsWith('spin'))('a Host that is not a loopback name is 403 host-denied (DNS rebinding), a loopback one passes', async () => {
      const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const rebound = await postWithHost(host.url, 'rebind.evil.example:8081', list);
      expect(rebound.status).toBe(403);
      expect(JSON.parse(rebound.text).error.code).toBe('host-denied');
      expect((await postWithHost(host.url, `localhost:${new URL(host.url).port}`, list)).status).toBe(200);
    });

    test('AUTH_TOKEN guards /mcp', async () => {
      const r = await get(host.url, '/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', headers: { 'content-type': 'application/json' } });
      expect([r.status, r.code]).toEqual([401, 'unauthorized']);
    });
  });
}
