// MCP over stdio's framing and session on their own (host/stdio-lines.mjs, host/mcp-stdio.mjs): lines cut at the
// cap, the headers a stdio session implies (checked with the component's own header validation), refusals as
// JSON-RPC errors, and reading paused while the pool is full. The component itself answers in test/e2e/stdio.test.ts.

import { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { SERVICE_ERROR, StdioSession, serveStdio } from '../../host/mcp-stdio.mjs';
import { PoolError, type WorkReply, type WorkRequest } from '../../host/pool.mjs';
import { type StdioLine, stdioLines } from '../../host/stdio-lines.mjs';
import { headerMismatch } from '../../src/api/mcp-headers.js';

async function collect(chunks: string[], cap: number): Promise<StdioLine[]> {
  const out: StdioLine[] = [];
  for await (const line of stdioLines(Readable.from(chunks.map((c) => Buffer.from(c))), cap)) out.push(line);
  return out;
}
const text = (line: StdioLine) => (line.kind === 'line' ? line.bytes.toString() : line);

describe('stdioLines(input, maxLineBytes)', () => {
  test('joins a line split over chunks, drops a trailing CR, and skips blank lines', async () => {
    expect((await collect(['{"a"', ':1}\r\n\n  \r\n{"b":2}\n'], 100)).map(text)).toEqual(['{"a":1}', '{"b":2}']);
  });

  test('a line of exactly the cap passes; one byte more is reported too long with its length, and the next line is whole', async () => {
    const lines = await collect(['12345\n123456', '789\nok\n'], 5);
    expect(lines.map(text)).toEqual(['12345', { kind: 'too-long', bytes: 9 }, 'ok']);
  });

  test('bytes after the last newline are reported unterminated, not as a line', async () => {
    expect((await collect(['{"x":1}\n{"y"'], 100)).map(text)).toEqual(['{"x":1}', { kind: 'unterminated', bytes: 4 }]);
  });
});

/** The request's headers as the component's Request sees them. */
const headersOf = (request: WorkRequest) => {
  const headers = new Headers();
  for (let i = 0; i < request.rawHeaders.length; i += 2) headers.append(request.rawHeaders[i]!, request.rawHeaders[i + 1]!);
  return headers;
};
const reply = (status: number, body: unknown): WorkReply => ({ status, headers: [], body: new TextEncoder().encode(body === undefined ? '' : JSON.stringify(body)) });

describe('StdioSession', () => {
  test('every request is a POST /mcp with JSON and the token; the version an initialize settled goes on every later request', () => {
    const session = new StdioSession({ token: 'a-token-of-sixteen+' });
    const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18' } };
    const first = session.request(Buffer.from(JSON.stringify(initialize)), initialize);
    expect(first).toMatchObject({ method: 'POST', url: '/mcp' });
    expect(headersOf(first).get('authorization')).toBe('Bearer a-token-of-sixteen+');
    expect(headersOf(first).get('mcp-protocol-version')).toBeNull();
    session.answer(reply(200, { jsonrpc: '2.0', id: 1, result: { protocolVersion: '2025-06-18' } }), initialize);
    const later = session.request(Buffer.from('{}'), {});
    expect(headersOf(later).get('mcp-protocol-version')).toBe('2025-06-18');
  });

  test('a 2026-07-28 request gets Mcp-Method and Mcp-Name from its body, which the component finds in agreement (non-ASCII names too)', () => {
    const session = new StdioSession({});
    const params = { name: 'tcp_exchange_é', _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } };
    const message = { jsonrpc: '2.0', id: 5, method: 'tools/call', params };
    const headers = headersOf(session.request(Buffer.from(JSON.stringify(message)), message));
    expect(headers.get('mcp-protocol-version')).toBe('2026-07-28');
    expect(headerMismatch(headers, 'tools/call', params)).toBeUndefined();
  });

  test("the service's refusal becomes a JSON-RPC error with its code; a notification's refusal is not answered; a 202 writes nothing", () => {
    const session = new StdioSession({});
    const request = { jsonrpc: '2.0', id: 'r', method: 'tools/list' };
    const refused = JSON.parse(session.answer(reply(401, { error: { code: 'unauthorized', message: 'no token' } }), request)!);
    expect(refused).toEqual({
      jsonrpc: '2.0',
      id: 'r',
      error: { code: SERVICE_ERROR, message: expect.stringContaining('no token (over stdio the host presents STDIO_TOKEN'), data: { code: 'unauthorized', message: expect.any(String), status: 401 } },
    });
    expect(session.answer(reply(401, { error: { code: 'unauthorized', message: 'no token' } }), { jsonrpc: '2.0', method: 'notifications/initialized' })).toBeUndefined();
    expect(session.answer(reply(202, undefined), { jsonrpc: '2.0', method: 'notifications/initialized' })).toBeUndefined();
  });
});

describe('serveStdio', () => {
  test('reads no further while maxInFlight requests are in flight, answers each, and a pool refusal becomes a JSON-RPC error', async () => {
    const lines = Array.from({ length: 10 }, (_, i) => `${JSON.stringify({ jsonrpc: '2.0', id: i, method: 'ping' })}\n`);
    let running = 0;
    let most = 0;
    const written: string[] = [];
    const run = async (request: WorkRequest): Promise<WorkReply> => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      const { id } = JSON.parse(new TextDecoder().decode(request.body)) as { id: number };
      if (id === 9) throw new PoolError('host-busy', 'all 2 workers are busy');
      return reply(200, { jsonrpc: '2.0', id, result: {} });
    };
    await serveStdio({ input: Readable.from(lines.map((l) => Buffer.from(l))), write: (l) => written.push(l), run, maxLineBytes: 1000, maxInFlight: 3, log: () => {} });
    expect(most).toBe(3);
    expect(written).toHaveLength(10);
    const busy = written.map((l) => JSON.parse(l)).find((m) => m.id === 9);
    expect(busy.error).toMatchObject({ code: SERVICE_ERROR, message: 'all 2 workers are busy', data: { code: 'host-busy', status: 503 } });
  });
});
