// CALLERS through the whole app: each token its own reach and limits, the audit naming the caller, and the
// requests a caller makes with another's token, a prefix of its token, or none.

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { Config, type Environment } from '../../src/settings/config.js';
import { fakeNetwork, reply } from '../support/fake-network.js';

const TOKEN_A = 'token-of-caller-a-0123456789';
const TOKEN_B = 'token-of-caller-b-9876543210';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');

const CALLERS = JSON.stringify({
  'agent-a': { token_sha256: digest(TOKEN_A), allowed_targets: '127.0.0.1:7', limits: { max_message_bytes: 8, request_deadline_ms: 1000 } },
  'agent-b': { token_sha256: digest(TOKEN_B), allowed_targets: '127.0.0.2:7' },
});

function appWith(env: Environment) {
  const fake = fakeNetwork({ peers: { '127.0.0.1:7': reply('from a'), '127.0.0.2:7': reply('from b'), '127.0.0.3:7': reply('from c') } });
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*', CALLERS, ...env });
  const lines: Record<string, unknown>[] = [];
  const app = createApp({ config: () => config, network: fake.network, writeAuditLine: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const call = async (path: string, token: string | undefined, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    const response = await app(new Request(`http://component.local${path}`, { ...init, headers }));
    const text = await response.text();
    const error = response.headers.get('content-type') === 'application/json' ? (JSON.parse(text) as { error?: { code: string; message: string } }).error : undefined;
    return { status: response.status, text, code: error?.code, message: error?.message };
  };
  return { ...fake, call, lines };
}

describe('requests under CALLERS', () => {
  test("each caller reaches its own targets, and another's are refused before anything is dialled, naming the caller", async () => {
    const { call, calls } = appWith({});
    expect(await call('/tcp/send?host=127.0.0.1&port=7&msg=hi', TOKEN_A)).toMatchObject({ status: 200, text: 'from a' });
    expect(await call('/tcp/send?host=127.0.0.2&port=7&msg=hi', TOKEN_B)).toMatchObject({ status: 200, text: 'from b' });
    const denied = await call('/tcp/send?host=127.0.0.2&port=7&msg=hi', TOKEN_A);
    expect(denied).toMatchObject({ status: 403, code: 'destination-denied' });
    expect(denied.message).toContain('outside caller "agent-a"\'s allowed targets');
    // The service's policy allows 127.0.0.3, but neither caller's list names it.
    expect(await call('/tcp/send?host=127.0.0.3&port=7&msg=hi', TOKEN_B)).toMatchObject({ status: 403, code: 'destination-denied' });
    expect(calls.map((c) => c.to)).toEqual(['127.0.0.1:7', '127.0.0.2:7']);
  });

  test('a caller\'s narrower limits hold for its requests only', async () => {
    const { call } = appWith({});
    const tooLong = await call('/tcp/send?host=127.0.0.1&port=7&msg=123456789', TOKEN_A);
    expect(tooLong).toMatchObject({ status: 413, code: 'message-too-large' });
    expect(tooLong.message).toContain('8 bytes');
    expect(tooLong.message).toContain('caller "agent-a"\'s limits.max_message_bytes in CALLERS');
    const slow = await call('/tcp/send?host=127.0.0.1&port=7&msg=hi&timeout_ms=2000', TOKEN_A);
    expect(slow).toMatchObject({ status: 400, code: 'invalid-parameter' });
    expect(slow.message).toBe('timeout_ms is 2000; give a whole number of ms from 1 to 1000 (caller "agent-a"\'s limits.request_deadline_ms in CALLERS)');
    expect(await call('/tcp/send?host=127.0.0.2&port=7&msg=123456789&timeout_ms=2000', TOKEN_B)).toMatchObject({ status: 200 });
  });

  test.each([
    ['no token', undefined],
    ['a prefix of a caller\'s token', TOKEN_A.slice(0, -1)],
    ['a caller\'s token with a byte more', `${TOKEN_A}x`],
    ['the digest itself', digest(TOKEN_A)],
  ])('%s is 401, and nothing is dialled', async (_, token) => {
    const { call, calls } = appWith({});
    const refused = await call('/tcp/send?host=127.0.0.1&port=7&msg=hi', token);
    expect(refused).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(refused.message).toContain('the token of a caller named in CALLERS');
    expect(calls).toEqual([]);
  });

  test('the audit line names the caller by its configured name; a refused token by its fingerprint', async () => {
    const { call, lines } = appWith({});
    await call('/tcp/send?host=127.0.0.1&port=7&msg=hi', TOKEN_A);
    await call('/tcp/send?host=127.0.0.1&port=7&msg=hi', 'not-a-caller-token');
    expect(lines.map((l) => l.caller)).toEqual(['agent-a', expect.stringMatching(/^sha256:[0-9a-f]{16}$/)]);
    expect(JSON.stringify(lines)).not.toContain(TOKEN_A);
  });

  test('the MCP tool call runs under the caller\'s reach too', async () => {
    const { call } = appWith({});
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tcp_exchange', arguments: { host: '127.0.0.2', port: 7, steps: [{ send: { text: 'hi' } }] } } });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
    const answer = await call('/mcp', TOKEN_A, { method: 'POST', headers, body });
    expect(answer.status).toBe(200);
    const result = (JSON.parse(answer.text) as { result: { isError: boolean; content: { text: string }[] } }).result;
    expect(result.isError).toBe(true);
    const error = (JSON.parse(result.content[0]!.text) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('destination-denied');
    expect(error.message).toContain('outside caller "agent-a"\'s allowed targets');
  });

  test('CALLERS beside AUTH_TOKEN is refused, not combined', async () => {
    const { call } = appWith({ AUTH_TOKEN: 'a-shared-token-0123456789' });
    const refused = await call('/tcp/send?host=127.0.0.1&port=7&msg=hi', TOKEN_A);
    expect(refused).toMatchObject({ status: 503, code: 'config-invalid' });
    expect(refused.message).toContain('CALLERS and AUTH_TOKEN are both set');
  });
});
