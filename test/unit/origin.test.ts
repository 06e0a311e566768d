// Browser origins and DNS rebinding through the app: ALLOWED_ORIGINS, the local origins and the Host check of a
// loopback-bound server (LISTEN_ADDRESS), ALLOWED_HOSTS, CORS for allowed pages, and the settings' /ready problems.

import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { Config, type Environment } from '../../src/settings/config.js';
import { fakeNetwork, reply } from '../support/fake-network.js';

const TOKEN = 'origin-unit-token-0123456789';
const exchange = JSON.stringify({ host: '127.0.0.1', port: 7, steps: [{ send: { text: 'x' } }] });
const mcpList = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

function appWith(env: Environment) {
  const fake = fakeNetwork({ peers: { '127.0.0.1:7': reply('y') } });
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*', ...env });
  const app = createApp({ config: () => config, network: fake.network });
  const call = async (path: string, headers: Record<string, string>, init: RequestInit = {}) => {
    const method = init.method ?? (path === '/health' || path === '/ready' ? 'GET' : 'POST');
    const body = method === 'POST' ? (path === '/mcp' ? mcpList : exchange) : undefined;
    const response = await app(new Request(`http://component.local${path}`, { method, body, ...init, headers: { 'content-type': 'application/json', ...headers } }));
    const text = await response.text();
    const error = response.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as { error?: { code: string; message: string } }).error : undefined;
    return { status: response.status, code: typeof error?.code === 'string' ? error.code : undefined, message: error?.message, headers: response.headers };
  };
  return { call, calls: fake.calls };
}

describe('Origin', () => {
  test.each(['/mcp', '/tcp/exchange'])('a request without Origin passes on %s (curl, agents, MCP clients that are not pages)', async (path) => {
    const { call } = appWith({});
    expect((await call(path, {})).status).toBe(200);
  });

  test.each(['/mcp', '/tcp/exchange', '/tcp/send?host=127.0.0.1&port=7&msg=x'])('a foreign Origin is 403 origin-denied on %s, naming it and the setting, and nothing connects', async (path) => {
    const { call, calls } = appWith({ ALLOWED_ORIGINS: 'https://app.example.com' });
    const r = await call(path, { origin: 'http://evil.example' });
    expect([r.status, r.code]).toEqual([403, 'origin-denied']);
    expect(r.message).toBe('Origin "http://evil.example" is not allowed: a browser page may call this server only from an origin listed in ALLOWED_ORIGINS');
    expect(calls).toEqual([]);
  });

  test.each(['null', 'https://app.example.com.evil.example', 'http://app.example.com', 'https://app.example.com:444'])('%j is not https://app.example.com (exact origins only)', async (origin) => {
    const { call } = appWith({ ALLOWED_ORIGINS: 'https://app.example.com' });
    expect((await call('/mcp', { origin })).code).toBe('origin-denied');
  });

  test('an origin in ALLOWED_ORIGINS passes, and its answer carries CORS headers', async () => {
    const { call } = appWith({ ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:6274' });
    for (const origin of ['https://app.example.com', 'http://localhost:6274']) {
      const r = await call('/mcp', { origin });
      expect([r.status, r.headers.get('access-control-allow-origin'), r.headers.get('vary')]).toEqual([200, origin, 'origin']);
    }
  });

  test("a preflight from an allowed origin is answered before the token is asked for, with the path's methods and the headers asked", async () => {
    const { call } = appWith({ ALLOWED_ORIGINS: 'https://app.example.com', AUTH_TOKEN: TOKEN });
    const r = await call('/mcp', { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, mcp-protocol-version' }, { method: 'OPTIONS' });
    expect(r.status).toBe(204);
    expect(Object.fromEntries([...r.headers].filter(([name]) => name.startsWith('access-control-')))).toEqual({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
      'access-control-max-age': '600',
    });
  });

  test('a preflight from another origin is refused like any request from it', async () => {
    const { call } = appWith({ ALLOWED_ORIGINS: 'https://app.example.com' });
    const r = await call('/mcp', { origin: 'https://evil.example', 'access-control-request-method': 'POST' }, { method: 'OPTIONS' });
    expect([r.status, r.code]).toEqual([403, 'origin-denied']);
  });

  test('an allowed origin still needs the token', async () => {
    const { call } = appWith({ ALLOWED_ORIGINS: 'https://app.example.com', AUTH_TOKEN: TOKEN });
    expect((await call('/mcp', { origin: 'https://app.example.com' })).code).toBe('unauthorized');
    expect((await call('/mcp', { origin: 'https://app.example.com', authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  test('the probes answer whatever the Origin and Host', async () => {
    const { call } = appWith({ LISTEN_ADDRESS: '127.0.0.1:8081' });
    expect((await call('/health', { origin: 'http://evil.example', host: 'evil.example' })).status).toBe(200);
    expect((await call('/ready', { origin: 'http://evil.example', host: 'evil.example' })).status).toBe(200);
  });
});

describe('a server bound to loopback (LISTEN_ADDRESS 127.0.0.1:8081)', () => {
  const loopback = { LISTEN_ADDRESS: '127.0.0.1:8081' };

  test.each(['localhost:8081', '127.0.0.1:8081', '127.0.0.1', '127.1.2.3:9', '[::1]:8081', 'LOCALHOST'])('Host %j passes', async (host) => {
    const { call } = appWith(loopback);
    expect((await call('/mcp', { host })).status).toBe(200);
  });

  test.each(['evil.example.com', 'evil.example.com:8081', '10.0.0.1:8081', 'localhost.evil.example', '[::2]:8081', '127.0.0.256'])('Host %j is 403 host-denied (DNS rebinding), and nothing connects', async (host) => {
    const { call, calls } = appWith(loopback);
    const r = await call('/tcp/exchange', { host });
    expect([r.status, r.code]).toEqual([403, 'host-denied']);
    expect(r.message).toBe(
      `Host ${JSON.stringify(host)} is refused: this server listens on loopback (LISTEN_ADDRESS=127.0.0.1:8081), where a Host that is not localhost, 127.0.0.1 or [::1] means a web page reached it through DNS rebinding; a proxy in front of it that passes its own name lists that name in ALLOWED_HOSTS`,
    );
    expect(calls).toEqual([]);
  });

  test('a request without Host is refused', async () => {
    const { call } = appWith(loopback);
    const r = await call('/mcp', {});
    expect([r.status, r.message]).toEqual([403, 'a request without a Host header is refused: this server listens on loopback (LISTEN_ADDRESS=127.0.0.1:8081)']);
  });

  test('a name in ALLOWED_HOSTS passes, in any case and with any port', async () => {
    const { call } = appWith({ ...loopback, ALLOWED_HOSTS: 'mcp.example.com' });
    expect((await call('/mcp', { host: 'MCP.example.com:443' })).status).toBe(200);
    expect((await call('/mcp', { host: 'other.example.com' })).code).toBe('host-denied');
  });

  test.each(['http://localhost:6274', 'http://127.0.0.1:5173', 'http://[::1]:3000', 'http://localhost'])('the local page origin %s passes', async (origin) => {
    const { call } = appWith(loopback);
    const r = await call('/mcp', { host: 'localhost:8081', origin });
    expect([r.status, r.headers.get('access-control-allow-origin')]).toEqual([200, origin]);
  });

  test.each(['https://localhost:6274', 'http://localhost.evil.example', 'http://127.0.0.2:80'])('%s is not a local origin', async (origin) => {
    const { call } = appWith(loopback);
    const r = await call('/mcp', { host: 'localhost:8081', origin });
    expect(r.code).toBe('origin-denied');
    expect(r.message).toContain('or from http://localhost, http://127.0.0.1 or http://[::1] (any port) as this server listens on loopback');
  });

  test.each(['::1', '[::1]:8081', 'localhost:8081', '127.0.0.1:0'])('LISTEN_ADDRESS=%s is loopback too', async (address) => {
    const { call } = appWith({ LISTEN_ADDRESS: address });
    expect((await call('/mcp', { host: 'evil.example' })).code).toBe('host-denied');
  });

  test.each(['0.0.0.0:8081', '192.0.2.1:80', '[::]:8081', 'mcp.example.com:443'])('LISTEN_ADDRESS=%s is not loopback: no Host check, and local origins are not let in', async (address) => {
    const { call } = appWith({ LISTEN_ADDRESS: address });
    expect((await call('/mcp', { host: 'evil.example' })).status).toBe(200);
    expect((await call('/mcp', { origin: 'http://localhost:6274' })).code).toBe('origin-denied');
  });
});

describe('the settings', () => {
  test.each([
    ['ALLOWED_ORIGINS', 'https://app.example.com/'],
    ['ALLOWED_ORIGINS', 'app.example.com'],
    ['ALLOWED_ORIGINS', 'HTTPS://APP.example.com'],
    ['ALLOWED_ORIGINS', 'https://app.example.com:443'],
    ['ALLOWED_ORIGINS', '*'],
    ['ALLOWED_ORIGINS', 'null'],
    ['ALLOWED_ORIGINS', 'ftp://files.example.com'],
    ['ALLOWED_HOSTS', 'mcp.example.com:443'],
    ['ALLOWED_HOSTS', 'http://mcp.example.com'],
    ['LISTEN_ADDRESS', '127.0.0.1:99999'],
    ['LISTEN_ADDRESS', 'http://127.0.0.1:8081'],
    ['LISTEN_ADDRESS', '[127.0.0.1]:8081'],
  ])('%s=%j is a /ready problem naming it, and every other request but the probes is 503 config-invalid', async (name, value) => {
    const config = new Config({ [name]: value });
    expect(config.problems.map((p) => p.setting)).toEqual([name]);
    const { call } = appWith({ [name]: value });
    const r = await call('/mcp', {});
    expect([r.status, r.code]).toEqual([503, 'config-invalid']);
    expect(r.message).toContain(name);
    expect((await call('/ready', {})).status).toBe(503);
    expect((await call('/health', {})).status).toBe(200);
  });

  test('well-formed values are no problem', () => {
    expect(new Config({ ALLOWED_ORIGINS: 'https://app.example.com,http://localhost:6274,http://[::1]:3000', ALLOWED_HOSTS: 'mcp.example.com,[::1],192.0.2.1', LISTEN_ADDRESS: '[::1]:8081' }).problems).toEqual([]);
  });
});
