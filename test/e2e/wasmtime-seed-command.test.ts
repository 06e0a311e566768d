// The original's own command line, `wasmtime serve -S cli -S inherit-network` with no name lookups:
// IP targets work, the default target reaches its fallback addresses, and a host name is refused with a
// clear error before the deadline rather than hanging.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get } from '../support/http.js';
import { type RunningHost, selectHosts, suiteName, wasmtimeNoLookupHost } from '../support/hosts.js';
import { echoPeer, httpPeer, type Peer } from '../support/peers.js';

/** Long enough that a lookup which hung instead of failing would end as 504 resolve-timeout, not 502. */
const DEADLINE_MS = 30_000;

for (const kind of selectHosts([wasmtimeNoLookupHost])) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('on ', kind), () => {
    let echo: Peer;
    let web: Awaited<ReturnType<typeof httpPeer>>;
    let host: RunningHost;

    beforeAll(async () => {
      [echo, web] = await Promise.all([echoPeer(), httpPeer()]);
      host = await kind.start({
        ALLOWED_TARGETS: '127.0.0.0/8:*',
        REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        DEFAULT_TARGET_HOST: 'default-target.invalid',
        DEFAULT_TARGET_PORT: String(web.port),
        DEFAULT_TARGET_FALLBACK_IPS: '127.0.0.1',
      });
    });

    afterAll(async () => {
      await host?.close();
      await Promise.all([echo?.close(), web?.close()]);
    });

    test('tcp/send to an IP address works', async () => {
      const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=hello%20wasi`);
      expect(r.status).toBe(200);
      expect(r.text).toBe('echo:hello wasi');
    });

    test('GET / reaches the default target through DEFAULT_TARGET_FALLBACK_IPS', async () => {
      const r = await get(host.url, '/');
      expect(r.status).toBe(200);
      expect(r.headers.get('x-peer-address')).toBe(`127.0.0.1:${web.port}`);
      expect(r.text).toContain(`hello from default-target.invalid:${web.port}`);
    });

    test('a host name is refused with 502 lookup-refused, not left to the deadline', async () => {
      const connectionsBefore = echo.received.length;
      const r = await get(host.url, `/tcp/send?host=localhost&port=${echo.port}&msg=x`);
      expect(r.status).toBe(502);
      expect(r.code).toBe('lookup-refused');
      expect(JSON.parse(r.text).error.message).toContain('localhost');
      expect(echo.received).toHaveLength(connectionsBefore);
    });
  });
}
