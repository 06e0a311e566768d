// incomingHandlerFor(app): the wasi:http adapter never lets a failure escape (an escape traps the instance),
// and answers every failure in the service's JSON error shape. Runs on the local host's in-memory wasi:http.

import { describe, expect, test, vi } from 'vitest';
import { IncomingRequest, OutgoingResponse, ResponseOutparam, requestFields, type ResponseResult } from '../../host/wasi-http-incoming.mjs';
import { createApp } from '../../src/api/app.js';
import { Config } from '../../src/settings/config.js';
import { incomingHandlerFor } from '../../src/wasi/http.js';
import { fakeNetwork } from '../support/fake-network.js';

type Handle = ReturnType<typeof incomingHandlerFor>['handle'];

/** Runs `app` behind the adapter for one request and returns what the host would send. */
async function serve(app: (request: Request) => Promise<Response>, method = 'GET', path = '/', authority = 'component.test') {
  let set: ResponseResult | undefined;
  const outparam = new ResponseOutparam((result) => (set = result));
  const request = new IncomingRequest(method, path, authority, requestFields(['accept', '*/*']));
  await incomingHandlerFor(app).handle(request as unknown as Parameters<Handle>[0], outparam as unknown as Parameters<Handle>[1]);
  if (set?.tag !== 'ok') throw new Error(`no response was set: ${JSON.stringify(set)}`);
  const { status, headers, body, finished } = OutgoingResponse.collect(set.val);
  return { status, headers: new Map(headers), text: new TextDecoder().decode(body), finished };
}

describe('incomingHandlerFor(app)', () => {
  test('passes the app response through: status, headers and the whole body, finished', async () => {
    const big = 'x'.repeat(10_000); // more than one write: the in-memory stream, as wasmtime's, refuses over 4096 bytes a call
    const r = await serve(async (request) => new Response(`${request.method} ${new URL(request.url).pathname} ${big}`, { status: 201, headers: { 'x-a': '1' } }), 'GET', '/p?q=1');
    expect(r.status).toBe(201);
    expect(r.headers.get('x-a')).toBe('1');
    expect(r.text).toBe(`GET /p ${big}`);
    expect(r.finished).toBe(true);
  });

  test('a response whose body fails while it is read becomes a logged 500 internal error, not a trap', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const failing = new ReadableStream({
        pull(controller) {
          controller.error(new Error('body stream broke'));
        },
      });
      const r = await serve(async () => new Response(failing, { status: 200 }));
      expect(r.status).toBe(500);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(JSON.parse(r.text)).toEqual({ error: { code: 'internal', message: 'internal error; see the host log' } });
      expect(logged).toHaveBeenCalledWith('ai-agent-sockets internal error:', expect.objectContaining({ message: 'body stream broke' }));
    } finally {
      logged.mockRestore();
    }
  });

  test('releases the request, its headers, its body and the body stream once it has answered (a reusing host keeps what is not released)', async () => {
    const released: string[] = [];
    const track = <T extends object>(name: string, resource: T): T =>
      Object.assign(resource, { [Symbol.dispose]: () => void released.push(name) });
    const request = track('request', new IncomingRequest('POST', '/p', 'component.test', requestFields(['content-type', 'text/plain']), new TextEncoder().encode('hi')));
    const { consume, headers } = request;
    Object.assign(request, {
      headers: () => track('headers', headers.call(request)),
      consume: () => {
        const body = track('body', consume.call(request));
        const { stream } = body;
        return Object.assign(body, { stream: () => track('stream', stream.call(body)) });
      },
    });
    const outparam = new ResponseOutparam(() => {});
    await incomingHandlerFor(async (r) => new Response(await r.text())).handle(request as unknown as Parameters<Handle>[0], outparam as unknown as Parameters<Handle>[1]);
    expect(released).toEqual(['headers', 'stream', 'body', 'request']);
  });

  test('IncomingRequest.release lets the body go: a stream taken before reads nothing more', () => {
    const request = new IncomingRequest('POST', '/', 'component.test', requestFields([]), new Uint8Array(100));
    const stream = request.consume().stream();
    expect(stream.read(10n)).toHaveLength(10);
    IncomingRequest.release(request);
    expect(() => stream.read(10n)).toThrow(expect.objectContaining({ tag: 'closed' }));
  });

  test('a request the web Request class refuses gets 400 invalid-request in the service error shape', async () => {
    const app = vi.fn(async () => new Response('unreachable'));
    const r = await serve(app, 'BAD METHOD');
    expect(app).not.toHaveBeenCalled();
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(r.text)).toEqual({ error: { code: 'invalid-request', message: 'the request could not be read' } });
  });

  test("the request's authority is the Host the app checks against DNS rebinding, never a part of its URL", async () => {
    const app = createApp({ config: () => new Config({ LISTEN_ADDRESS: '127.0.0.1:8081' }), network: fakeNetwork({}).network });
    const rebound = await serve(app, 'GET', '/openapi.json', 'evil.example:8081');
    expect([rebound.status, JSON.parse(rebound.text).error.code]).toEqual([403, 'host-denied']);
    expect((await serve(app, 'GET', '/openapi.json', 'localhost:8081')).status).toBe(200);
    const url = await serve(async (request) => new Response(request.url), 'GET', '/p', 'evil.example');
    expect(url.text).toBe('http://component.local/p');
  });
});
