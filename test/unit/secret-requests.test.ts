// SECRETS through the whole app, as an attacker holding a caller's token would try it: a secret sent where it
// may not go, by a caller that may not use it, over plaintext, echoed back whole or split across steps, and
// what the MCP tool and the audit say of it. The fake network stands for the peer: it sees what was sent.

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { SocketFault } from '../../src/net/faults.js';
import { Config } from '../../src/settings/config.js';
import { type FakeReply, bytesOf, fakeNetwork } from '../support/fake-network.js';

const TOKEN_A = 'token-of-caller-a-0123456789';
const TOKEN_B = 'token-of-caller-b-9876543210';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const PASSWORD = 'correct-horse-battery-staple';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const CALLERS = JSON.stringify({
  'agent-a': { token_sha256: digest(TOKEN_A), allowed_targets: '127.0.0.1:7,127.0.0.2:7,192.0.2.10:6379', secrets: ['REDIS'] },
  'agent-b': { token_sha256: digest(TOKEN_B), allowed_targets: '127.0.0.1:7', secrets: ['OTHER'] },
});
const SECRETS = JSON.stringify({
  REDIS: { value: PASSWORD, destinations: '127.0.0.1:7,192.0.2.10:6379' },
  OTHER: { value: 'another-secret-value', destinations: '127.0.0.1:7' },
});

/** A peer that sends back what each step sent (a Redis ECHO, an error that quotes the command). */
const echo = (_text: string, bytes: Uint8Array): FakeReply => ({ bytes: bytes.slice(), end: 'idle' });

function appWith(peers: Parameters<typeof fakeNetwork>[0]['peers'] = { '127.0.0.1:7': echo, '127.0.0.2:7': echo, '192.0.2.10:6379': echo }, callers = CALLERS) {
  const fake = fakeNetwork({ peers });
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*,192.0.2.10:6379', CALLERS: callers, SECRETS });
  const lines: string[] = [];
  const app = createApp({ config: () => config, network: fake.network, writeAuditLine: (line) => lines.push(line) });
  const post = async (path: string, token: string, body: unknown, headers: Record<string, string> = {}) => {
    const request = new Request(`http://component.local${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    });
    const response = await app(request);
    const text = await response.text();
    return { status: response.status, text, json: JSON.parse(text) as Body };
  };
  /** What the peers received, each connection's steps put together as the socket would have sent them. */
  const received = () => fake.calls.map((call) => ({ to: call.to, sent: call.steps.map((step) => decoder.decode(bytesOf(step.send))) }));
  return { ...fake, post, lines, received };
}

/** A tool as tools/list shows it, as far as these tests read it. */
interface Tool {
  description: string;
  inputSchema: { properties: { steps: { items: { properties: { send: { oneOf: [unknown, { items: { properties: { secret: { enum: string[] } } } }] } } } } } };
}

/** The parts of an answer (of /tcp/exchange or /mcp) these tests read. */
interface Body {
  steps: { reply: { text?: string; base64?: string }; redacted?: true; bytes: number }[];
  redacted?: true;
  error: { code: string; message: string };
  result: { isError: boolean; content: { text: string }[]; tools: Tool[]; cacheScope: string };
}

const authStep = (name = 'REDIS') => ({ send: [{ text: 'AUTH ' }, { secret: name }, { text: '\r\n' }] });
const exchange = (host: string, port: number, steps: unknown[]) => ({ host, port, steps });

describe('a secret sent where it may go', () => {
  test('the peer receives its value in place of the part; the reply that echoes it shows the marker, and the answer says it redacted', async () => {
    const { post, received, lines } = appWith();
    const answer = await post('/tcp/exchange', TOKEN_A, exchange('127.0.0.1', 7, [authStep(), { send: { text: 'PING\r\n' } }]));
    expect(answer.status).toBe(200);
    expect(received()).toEqual([{ to: '127.0.0.1:7', sent: [`AUTH ${PASSWORD}\r\n`, 'PING\r\n'] }]);
    expect(answer.json.steps).toMatchObject([{ reply: { text: 'AUTH [secret:REDIS]\r\n' }, redacted: true, bytes: 'AUTH [secret:REDIS]\r\n'.length }, { reply: { text: 'PING\r\n' } }]);
    expect(answer.json.steps[1]).not.toHaveProperty('redacted');
    expect(answer.json.redacted).toBe(true);
    expect(answer.text).not.toContain(PASSWORD);
    // The audit names the caller and the secret; it counts the bytes as they went, never shows them.
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ caller: 'agent-a', secrets: ['REDIS'], redacted: true, sent: 5 + PASSWORD.length + 2 + 6, status: 200 });
    expect(lines[0]).not.toContain(PASSWORD);
  });

  test('an echo split across two steps is redacted in both, each reply with its own marker', async () => {
    let step = 0;
    const splitEcho = (): FakeReply => ({ bytes: encoder.encode(step++ === 0 ? `+${PASSWORD.slice(0, 10)}` : `${PASSWORD.slice(10)}\r\n`), end: 'idle' });
    const { post } = appWith({ '127.0.0.1:7': splitEcho });
    const answer = await post('/tcp/exchange', TOKEN_A, exchange('127.0.0.1', 7, [authStep(), { send: { text: 'x' } }]));
    expect(answer.json.steps.map((s) => s.reply.text)).toEqual(['+[secret:REDIS]', '[secret:REDIS]\r\n']);
    expect(answer.text).not.toContain(PASSWORD.slice(0, 10));
    expect(answer.text).not.toContain(PASSWORD.slice(10));
  });

  test('a reply in base64 (not UTF-8) is redacted before it is encoded', async () => {
    const binaryEcho = (_text: string, bytes: Uint8Array): FakeReply => ({ bytes: new Uint8Array([0xff, ...bytes]), end: 'idle' });
    const { post } = appWith({ '127.0.0.1:7': binaryEcho });
    const answer = await post('/tcp/exchange', TOKEN_A, exchange('127.0.0.1', 7, [authStep()]));
    const shown = Buffer.from(answer.json.steps[0]!.reply.base64!, 'base64').toString('latin1');
    expect(shown).toBe('\xffAUTH [secret:REDIS]\r\n');
    expect(answer.text).not.toContain(Buffer.from(PASSWORD).toString('base64').slice(0, 12));
  });

  test('the replies before a fault are redacted too', async () => {
    let step = 0;
    const echoThenReset = (_text: string, bytes: Uint8Array): FakeReply => {
      if (step++ > 0) throw new SocketFault('read', 'connection-reset');
      return { bytes: bytes.slice(), end: 'idle' };
    };
    const { post } = appWith({ '127.0.0.1:7': echoThenReset });
    const answer = await post('/tcp/exchange', TOKEN_A, exchange('127.0.0.1', 7, [authStep(), { send: { text: 'x' } }]));
    expect(answer.json.error.code).toBe('connection-reset');
    expect(answer.json.steps).toMatchObject([{ reply: { text: 'AUTH [secret:REDIS]\r\n' }, redacted: true }]);
    expect(answer.text).not.toContain(PASSWORD);
  });

  test("the secret's length counts against MAX_MESSAGE_BYTES", async () => {
    const narrow = JSON.stringify({ 'agent-a': { token_sha256: digest(TOKEN_A), allowed_targets: '127.0.0.1:7', secrets: ['REDIS'], limits: { max_message_bytes: 20 } } });
    const { post, calls } = appWith(undefined, narrow);
    const refused = await post('/tcp/exchange', TOKEN_A, exchange('127.0.0.1', 7, [authStep()]));
    expect([refused.status, refused.json.error.code]).toEqual([413, 'message-too-large']);
    expect(refused.json.error.message).toBe(`steps/0/send brings the bytes to send to ${5 + PASSWORD.length + 2}; the limit for a whole dialogue is 20 bytes (caller "agent-a"'s limits.max_message_bytes in CALLERS)`);
    expect(calls).toEqual([]);
  });
});

describe('a secret sent where it may not go is refused before anything is sent', () => {
  test("to an address its caller may reach but that is not one of the secret's destinations: no connection", async () => {
    const { post, calls, lines } = appWith();
    const refused = await post('/tcp/exchange', TOKEN_A, exchange('127.0.0.2', 7, [authStep()]));
    expect([refused.status, refused.json.error.code]).toEqual([403, 'secret-denied']);
    expect(refused.json.error.message).toBe('the secret "REDIS" may not be sent to 127.0.0.2:7: it is not one of the secret\'s destinations (SECRETS); nothing was sent');
    expect(calls).toEqual([]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ caller: 'agent-a', secrets: ['REDIS'], status: 403, code: 'secret-denied' });
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('connected');
    expect(JSON.parse(lines[0]!)).not.toHaveProperty('redacted');
  });

  test('in plaintext to an address that is not loopback: no connection', async () => {
    const { post, calls } = appWith();
    const refused = await post('/tcp/exchange', TOKEN_A, exchange('192.0.2.10', 6379, [authStep()]));
    expect([refused.status, refused.json.error.code]).toEqual([403, 'secret-denied']);
    expect(refused.json.error.message).toBe(
      'the secret "REDIS" requires TLS (the default for an address that is not loopback), and step 1 would send it to 192.0.2.10:6379 before TLS has started; nothing was sent',
    );
    expect(calls).toEqual([]);
  });

  test("by a caller that may not use it (another caller's secret, or a name that does not exist): the same refusal, no connection", async () => {
    const { post, calls } = appWith();
    for (const name of ['REDIS', 'NO_SUCH_SECRET']) {
      const refused = await post('/tcp/exchange', TOKEN_B, exchange('127.0.0.1', 7, [authStep(name)]));
      expect([refused.status, refused.json.error.code]).toEqual([403, 'secret-denied']);
      expect(refused.json.error.message).toBe(`steps/0/send/1 names the secret "${name}", which caller "agent-b" may not use (its secrets in CALLERS)`);
    }
    expect(calls).toEqual([]);
  });

  test('over MCP, the refusal is an error result with its code, and nothing is dialled', async () => {
    const { post, calls } = appWith();
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tcp_exchange', arguments: exchange('127.0.0.2', 7, [authStep()]) } };
    const answer = await post('/mcp', TOKEN_A, call, { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' });
    expect(answer.json.result.isError).toBe(true);
    expect((JSON.parse(answer.json.result.content[0]!.text) as Body).error.code).toBe('secret-denied');
    expect(calls).toEqual([]);
  });
});

describe('what the MCP tool shows each caller', () => {
  const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } };
  const headers = { accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' };

  test('its own secrets by name and destination, never a value; the list is private to the caller', async () => {
    const { post } = appWith();
    const [a, b] = [await post('/mcp', TOKEN_A, list, headers), await post('/mcp', TOKEN_B, list, headers)];
    const [toolA, toolB] = [a.json.result.tools[0]!, b.json.result.tools[0]!];
    expect(toolA.description).toContain('REDIS (to 127.0.0.1:7, 192.0.2.10:6379; TLS required except to loopback)');
    expect(toolA.description).not.toContain('OTHER');
    expect(toolB.description).toContain('OTHER (to 127.0.0.1:7;');
    const partOf = (tool: Tool) => tool.inputSchema.properties.steps.items.properties.send.oneOf[1].items.properties.secret;
    expect(partOf(toolA).enum).toEqual(['REDIS']);
    expect(partOf(toolB).enum).toEqual(['OTHER']);
    expect(a.json.result.cacheScope).toBe('private');
    for (const text of [a.text, b.text]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('another-secret-value');
    }
  });
});
