// The container image's command (Dockerfile CMD) on a real wasmtime: settings given to the process, as
// `docker run -e` gives them, reach the component; settings not given keep their defaults.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get } from '../support/http.js';
import { type RunningHost, containerCommandHost, selectHosts, suiteName } from '../support/hosts.js';
import { echoAndClosePeer, type Peer } from '../support/peers.js';

const TOKEN = 'container-token-0123456789abcdef';

for (const kind of selectHosts([containerCommandHost])) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('on ', kind), () => {
    let echo: Peer;
    let host: RunningHost;

    beforeAll(async () => {
      echo = await echoAndClosePeer();
      host = await kind.start({ AUTH_TOKEN: TOKEN, ALLOWED_TARGETS: '127.0.0.0/8:*', MAX_MESSAGE_BYTES: '8' });
    });

    afterAll(async () => {
      await host?.close();
      await echo?.close();
    });

    test('AUTH_TOKEN from the environment guards the endpoints', async () => {
      const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=x`);
      expect(r.status).toBe(401);
    });

    test('ALLOWED_TARGETS and MAX_MESSAGE_BYTES from the environment apply', async () => {
      const headers = { authorization: `Bearer ${TOKEN}` };
      const ok = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=12345678`, { headers });
      expect(ok.status).toBe(200);
      expect(ok.text).toBe('echo:12345678');
      const tooLong = await get(host.url, `/tcp/send?host=127.0.0.1&port=${echo.port}&msg=123456789`, { headers });
      expect(tooLong.status).toBe(413);
    });
  });
}
