// What could leak from one request to the next, on the two ways wasmtime serve runs the component: the shipped
// command (a fresh instance per request in a pooled memory slot that is reset in place and reused, dirtied
// pages kept resident) and instance reuse (--max-instance-reuse-count: one instance answers many requests, one
// at a time). Every other suite runs on both too; these cases aim at what slot or instance reuse could break —
// an answer, a credential or a socket carried over from the request before. Requests go one at a time, so
// consecutive ones land in the same slot or instance.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get } from '../support/http.js';
import { type RunningHost, selectHosts, suiteName, wasmtimeHost, wasmtimeReuseHost } from '../support/hosts.js';
import { echoAndClosePeer, eventually, silentPeer, type Peer } from '../support/peers.js';

const TOKEN = 'reuse-token-0123456789abcdef';
const DEADLINE_MS = 1500;

for (const kind of selectHosts([wasmtimeHost, wasmtimeReuseHost])) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('state between requests, on ', kind), () => {
    let echo: Peer;
    let silent: Peer;
    let host: RunningHost;
    const auth = { authorization: `Bearer ${TOKEN}` };

    beforeAll(async () => {
      [echo, silent] = await Promise.all([echoAndClosePeer(), silentPeer()]);
      host = await kind.start({ ALLOWED_TARGETS: '127.0.0.0/8:*', AUTH_TOKEN: TOKEN, REQUEST_DEADLINE_MS: String(DEADLINE_MS) });
    });

    afterAll(async () => {
      await host?.close();
      await Promise.all([echo?.close(), silent?.close()]);
    });

    test('consecutive requests each get their own answer, and a credential never carries over', async () => {
      for (let i = 0; i < 40; i++) {
        const withToken = i % 2 === 0;
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=request-${i}`, { headers: withToken ? auth : {} });
        if (withToken) {
          expect(r.status).toBe(200);
          expect(r.text).toBe(`echo:request-${i}`);
        } else {
          expect(r.status).toBe(401);
          expect(r.code).toBe('unauthorized');
        }
      }
    });

    test('a request that hit its deadline leaves no connection open, and the next request is answered', async () => {
      const stuck = await get(host.url, `/tcp/send?host=127.0.0.1&port=${silent.port}&msg=x`, { headers: auth });
      expect(stuck.status).toBe(504);
      expect(await eventually(async () => (await silent.openConnections()) === 0)).toBe(true);
      const next = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=after`, { headers: auth });
      expect(next.status).toBe(200);
      expect(next.text).toBe('echo:after');
    });

    test('a refused destination stays refused after allowed requests on the same instance', async () => {
      const allowed = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=ok`, { headers: auth });
      expect(allowed.status).toBe(200);
      const denied = await get(host.url, `/tcp/send?host=169.254.169.254&port=80&msg=x`, { headers: auth });
      expect(denied.status).toBe(403);
      expect(denied.code).toBe('destination-denied');
    });
  });
}
