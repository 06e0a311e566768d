// `ai-agent-sockets --stdio`: MCP over stdin/stdout through the built component's own MCP handler, driven by the
// official SDK client (StdioClientTransport, as Claude Desktop, Cursor and Codex launch a server) and by raw
// lines for what a hostile or careless client sends. stdout must carry JSON-RPC and nothing else.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { tcpPeer, type Peer } from '../support/tcp-peers.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/ai-agent-sockets.mjs', import.meta.url));
/** One worker is enough for a session and starts fastest. */
const SMALL = { POOL_SIZE: '1' };
/** Settings of the test runner's own environment that would change what these tests see. */
const NEUTRAL = { AUTH_TOKEN: '', CALLERS: '', STDIO_TOKEN: '', ALLOWED_TARGETS: undefined as string | undefined };

/** A Redis-like line peer written for these tests: `PING\r\n` is answered `+PONG\r\n`; it records what it got. */
const pongPeer = () => tcpPeer((socket) => socket.on('data', (d: Buffer) => d.toString().includes('PING') && socket.write('+PONG\r\n')));

const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
const TOOLS_LIST = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/** An SDK client connected to a `--stdio` process started with `env` (on top of the SDK's default environment). */
async function sdkClient(env: Record<string, string>) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, '--stdio'], env: { ...SMALL, ...env }, cwd: root, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'stdio-e2e', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

/** A JSON-RPC answer, as far as these tests read one. */
interface Answer {
  id: string | number | null;
  result?: { tools?: { name: string }[]; protocolVersion?: string; resultType?: string };
  error?: { code: number; message: string; data?: { code?: string; status?: number } };
}

/** A `--stdio` process driven line by line: what it wrote to stdout (as lines) and stderr, and how it ended. */
class RawSession {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(env: Record<string, string> = {}, args = ['--stdio']) {
    const merged: Record<string, string | undefined> = { ...process.env, ...NEUTRAL, ...SMALL, ...env };
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: root, env: merged as NodeJS.ProcessEnv });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.#wake();
    });
    this.child.stderr.on('data', (d) => {
      this.stderr += d;
      this.#wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.#gone = true;
        resolve(code);
        this.#wake();
      }),
    );
  }

  #gone = false;

  #wake() {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once `ready()` holds, re-checked on each line of output; rejects when the process ended first. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.#gone) throw new Error(`the process exited before the awaited output; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  send(message: unknown) {
    this.child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
  }

  /** The answer whose id is `id`, once it arrives. */
  async answer(id: string | number | null): Promise<Answer> {
    const find = () => this.lines.map((l) => JSON.parse(l) as Answer).find((m) => m.id === id);
    await this.until(() => find() !== undefined);
    return find()!;
  }
}

/** Every line is a JSON-RPC 2.0 message: nothing else may reach stdout. */
function expectOnlyJsonRpc(lines: string[]) {
  for (const line of lines) {
    const parsed = JSON.parse(line);
    for (const message of Array.isArray(parsed) ? parsed : [parsed]) expect(message, line.slice(0, 200)).toMatchObject({ jsonrpc: '2.0' });
  }
}

/** The TCP ports `pid` listens on, from /proc (Linux); undefined where there is no /proc. */
function listeningPorts(pid: number): number[] | undefined {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const inodes = new Set(fds.flatMap((fd) => /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`))?.[1] ?? []));
  const listening = ['tcp', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((row) => row.trim().split(/\s+/))
      .filter((cols) => cols[3] === '0A' && inodes.has(cols[9] ?? '')),
  );
  return listening.map((cols) => parseInt(cols[1]!.split(':')[1]!, 16));
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

describe('--stdio with the official MCP SDK client', () => {
  let peer: Peer;
  let session: Awaited<ReturnType<typeof sdkClient>>;

  beforeAll(async () => {
    peer = await pongPeer();
    session = await sdkClient({ ALLOWED_TARGETS: `127.0.0.1:${peer.port}` });
  });
  afterAll(async () => {
    await session?.client.close();
    await peer?.close();
  });

  test('tools/list offers tcp_exchange', async () => {
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['tcp_exchange', 'udp_exchange']);
  });

  test('tools/call runs a dialogue against a loopback peer that ALLOWED_TARGETS opens, and the audit line goes to stderr', async () => {
    const result = await session.client.callTool({
      name: 'tcp_exchange',
      arguments: { host: '127.0.0.1', port: peer.port, steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }] },
    });
    expect(result.isError).toBe(false);
    const structured = result.structuredContent as { peer: string; steps: { reply: { text: string }; end: string }[] };
    expect(structured.peer).toBe(`127.0.0.1:${peer.port}`);
    expect(structured.steps[0]).toMatchObject({ reply: { text: '+PONG\r\n' }, end: 'until' });
    expect(Buffer.concat(peer.received).toString()).toContain('PING\r\n');
    await expect.poll(() => session.stderr()).toMatch(new RegExp(`"route":"/mcp".*127\\.0\\.0\\.1:${peer.port}`));
  });
});

describe('--stdio policy default', () => {
  let peer: Peer;
  beforeAll(async () => (peer = await pongPeer()));
  afterAll(() => peer?.close());

  test("without ALLOWED_TARGETS the component's own policy applies: loopback is refused, and the peer sees no connection", async () => {
    const { client } = await sdkClient({});
    try {
      const result = await client.callTool({ name: 'tcp_exchange', arguments: { host: '127.0.0.1', port: peer.port, steps: [{ send: { text: 'PING\r\n' } }] } });
      expect(result.isError).toBe(true);
      const { error } = JSON.parse((result.content as { text: string }[])[0]!.text);
      expect(error.code).toBe('destination-denied');
      expect(error.message).toContain(`127.0.0.1:${peer.port} is not allowed`);
      expect(await peer.openConnections()).toBe(0);
      expect(peer.received).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe('--stdio with a hostile or careless client', () => {
  let raw: RawSession;
  afterEach(async () => {
    raw.child.stdin.end();
    await raw.exited;
    expectOnlyJsonRpc(raw.lines);
  });

  test('a line that is not JSON is answered with a parse error (-32700), and the process keeps serving', async () => {
    raw = new RawSession();
    raw.send('this is {not json');
    expect(await raw.answer(null)).toMatchObject({ error: { code: -32700, message: 'Parse error: the body is not valid JSON' } });
    raw.send(TOOLS_LIST);
    expect((await raw.answer(2)).result?.tools?.[0]?.name).toBe('tcp_exchange');
  });

  test('a 10 MB line is refused by the host unread, with the cap named, and the next message is served', async () => {
    raw = new RawSession();
    const chunk = 'a'.repeat(1 << 20);
    for (let i = 0; i < 10; i++) raw.child.stdin.write(chunk);
    raw.child.stdin.write('\n');
    const refused = await raw.answer(null);
    expect(refused.error?.code).toBe(-32000);
    expect(refused.error?.data).toMatchObject({ code: 'body-too-large', status: 413 });
    expect(refused.error?.message).toMatch(/^the message is longer than \d+ bytes \(twice MAX_MESSAGE_BYTES plus 64 KiB\) and was dropped unread$/);
    raw.send(TOOLS_LIST);
    expect((await raw.answer(2)).result?.tools).toHaveLength(2);
  });

  test('a half line then EOF: the complete messages are answered, the fragment is dropped and named on stderr, and the process exits 0', async () => {
    raw = new RawSession();
    raw.send(INITIALIZE);
    raw.child.stdin.end('{"jsonrpc":"2.0","id":9,"meth');
    expect(await raw.exited).toBe(0);
    expect(JSON.parse(raw.lines[0]!)).toMatchObject({ id: 1, result: { protocolVersion: '2025-06-18' } });
    expect(raw.lines).toHaveLength(1);
    expect(raw.stderr).toContain('stdin ended inside a message (29 bytes without a newline); it was dropped');
  });

  test('a batch and a 2026-07-28 request are each judged by the component as over HTTP', async () => {
    raw = new RawSession();
    // Before any initialize a stdio session has no version: a batch is read as 2025-03-26, the one revision with batches.
    raw.send([{ jsonrpc: '2.0', id: 'a', method: 'ping' }]);
    await raw.until(() => raw.lines.length === 1);
    expect(JSON.parse(raw.lines[0]!)).toEqual([{ jsonrpc: '2.0', id: 'a', result: {} }]);
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    raw.send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: meta } });
    expect((await raw.answer(3)).result).toMatchObject({ resultType: 'complete', tools: [{ name: 'tcp_exchange' }, { name: 'udp_exchange' }] });
  });

  test('after initialize settles 2025-06-18, the session speaks it: a batch is refused as that revision refuses it', async () => {
    raw = new RawSession();
    raw.send(INITIALIZE);
    await raw.answer(1);
    raw.send([{ jsonrpc: '2.0', id: 'b', method: 'ping' }]);
    const refused = await raw.answer(null);
    expect(refused.error).toMatchObject({ code: -32600 });
    expect(refused.error?.message).toContain('a JSON-RPC batch under MCP-Protocol-Version 2025-06-18');
  });

  test('no TCP port is opened', async () => {
    raw = new RawSession();
    raw.send(TOOLS_LIST);
    await raw.answer(2);
    const ports = listeningPorts(raw.child.pid!);
    if (ports === undefined) return;
    expect(ports).toEqual([]);
    // The check itself sees a listener where there is one: this process's own peer.
    const peer = await pongPeer();
    try {
      expect(listeningPorts(process.pid)).toContain(peer.port);
    } finally {
      await peer.close();
    }
  });
});

describe('--stdio ends when stdin closes', () => {
  test('EOF while a dialogue is in flight: its answer is still written, then the process exits 0', async () => {
    // The peer answers only when told to, so the dialogue is surely in flight when stdin closes.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const peer = await tcpPeer((socket) => socket.once('data', () => void released.then(() => socket.write('+PONG\r\n'))));
    const raw = new RawSession({ ALLOWED_TARGETS: `127.0.0.1:${peer.port}` });
    try {
      raw.send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'tcp_exchange', arguments: { host: '127.0.0.1', port: peer.port, steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }] } } });
      await expect.poll(() => peer.received[0]?.length ?? 0).toBeGreaterThan(0);
      raw.child.stdin.end();
      await raw.until(() => raw.stderr.includes('stdin ended; finishing 1 request in flight'));
      release();
      expect(await raw.answer(7)).toMatchObject({ result: { structuredContent: { steps: [{ reply: { text: '+PONG\r\n' } }] } } });
      expect(await raw.exited).toBe(0);
      expectOnlyJsonRpc(raw.lines);
    } finally {
      raw.child.kill();
      await peer.close();
    }
  });
});

describe('--stdio authentication', () => {
  const TOKEN_A = 'stdio-caller-token-a-0123456789';
  const digest = (token: string) => createHash('sha256').update(token).digest('hex');
  const callers = JSON.stringify({ 'agent-a': { token_sha256: digest(TOKEN_A), allowed_targets: '127.0.0.1:1' } });

  test('with AUTH_TOKEN the host presents it for the session: tools/list is answered', async () => {
    const raw = new RawSession({ AUTH_TOKEN: 'stdio-auth-token-0123456789abcdef' });
    raw.send(TOOLS_LIST);
    expect((await raw.answer(2)).result?.tools).toHaveLength(2);
    raw.child.stdin.end();
    expect(await raw.exited).toBe(0);
  });

  test('with CALLERS and no STDIO_TOKEN the start is refused, naming STDIO_TOKEN', async () => {
    const raw = new RawSession({ CALLERS: callers });
    expect(await raw.exited).toBe(2);
    expect(raw.stderr).toContain('CALLERS is set, so every request must name its caller: set STDIO_TOKEN');
    expect(raw.lines).toEqual([]);
  });

  test("with CALLERS, STDIO_TOKEN names the session's caller; a token no caller has is a JSON-RPC error that never shows it", async () => {
    const good = new RawSession({ CALLERS: callers, STDIO_TOKEN: TOKEN_A });
    good.send(TOOLS_LIST);
    expect((await good.answer(2)).result?.tools).toHaveLength(2);
    good.child.stdin.end();
    await good.exited;

    const wrong = 'stdio-wrong-token-0123456789abc';
    const bad = new RawSession({ CALLERS: callers, STDIO_TOKEN: wrong });
    bad.send(TOOLS_LIST);
    const refused = await bad.answer(2);
    expect(refused.error?.code).toBe(-32000);
    expect(refused.error?.data).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(refused.error?.message).toContain('over stdio the host presents STDIO_TOKEN');
    bad.child.stdin.end();
    await bad.exited;
    expect(bad.lines.join('\n') + bad.stderr).not.toContain(wrong);
  });
});

describe('the command line', () => {
  test('--version prints the package version and exits 0', async () => {
    const raw = new RawSession({}, ['--version']);
    expect(await raw.exited).toBe(0);
    expect(raw.lines).toEqual([JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version]);
  });

  test('`npx ai-agent-sockets` in the checkout runs its own command', async () => {
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      // npm on Node 22+ would leave its compile cache in the temporary directory, which the run's leak check finds.
      const child = spawn('npx', ['--no-install', 'ai-agent-sockets', '--version'], { cwd: root, env: { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.once('error', reject);
      child.once('exit', () => resolve({ stdout: out }));
    });
    expect(stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });

  test('--help names --stdio and exits 0; an unknown option exits 2 with the usage on stderr', async () => {
    const help = new RawSession({}, ['--help']);
    expect(await help.exited).toBe(0);
    expect(help.lines.join('\n')).toContain('--stdio');
    const unknown = new RawSession({}, ['--bogus']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.stderr).toContain('unknown option "--bogus"');
    expect(unknown.lines).toEqual([]);
  });
});
