// CALLERS through the built component on each host: each token its own reach, the caller named in the audit
// line, and a target outside a caller's list never reached (its peer sees no connection).

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { get } from '../support/http.js';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { type Peer, echoAndClosePeer, eventually } from '../support/peers.js';

const TOKEN_A = 'callers-e2e-token-a-0123456789';
const TOKEN_B = 'callers-e2e-token-b-9876543210';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

for (const kind of ALL_HOSTS) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('callers, on ', kind), () => {
    let peerA: Peer;
    let peerB: Peer;
    let host: RunningHost;

    beforeAll(async () => {
      [peerA, peerB] = await Promise.all([echoAndClosePeer(), echoAndClosePeer()]);
      const callers = {
        'agent-a': { token_sha256: digest(TOKEN_A), allowed_targets: `127.0.0.1:${peerA.port}`, limits: { max_message_bytes: 8 } },
        'agent-b': { token_sha256: digest(TOKEN_B), allowed_targets: `127.0.0.1:${peerB.port}` },
      };
      host = await kind.start({ CALLERS: JSON.stringify(callers), ALLOWED_TARGETS: `127.0.0.1:${peerA.port},127.0.0.1:${peerB.port}` });
    });

    afterAll(async () => {
      await host?.close();
      await Promise.all([peerA?.close(), peerB?.close()]);
    });

    test("each caller reaches its own target; the other's is refused and its peer sees no connection", async () => {
      const ok = await get(host.url, `/tcp/send?host=127.0.0.1&port=${peerA.port}&msg=hi`, bearer(TOKEN_A));
      expect(ok.status, ok.text).toBe(200);
      expect(ok.text).toContain('hi');
      const denied = await get(host.url, `/tcp/send?host=127.0.0.1&port=${peerB.port}&msg=hi`, bearer(TOKEN_A));
      expect(denied.status).toBe(403);
      expect(denied.code).toBe('destination-denied');
      expect(denied.text).toContain('outside caller \\"agent-a\\"');
      expect(peerB.received).toEqual([]);
      expect((await get(host.url, `/tcp/send?host=127.0.0.1&port=${peerB.port}&msg=hi`, bearer(TOKEN_B))).status).toBe(200);
    });

    test("a caller's narrower message cap holds for it only", async () => {
      const tooLong = await get(host.url, `/tcp/send?host=127.0.0.1&port=${peerA.port}&msg=123456789`, bearer(TOKEN_A));
      expect(tooLong.status).toBe(413);
      expect(tooLong.code).toBe('message-too-large');
    });

    test('a token that is a prefix of a caller\'s, or none, is 401', async () => {
      for (const init of [bearer(TOKEN_A.slice(0, -1)), {}]) {
        const refused = await get(host.url, `/tcp/send?host=127.0.0.1&port=${peerA.port}&msg=hi`, init);
        expect(refused.status).toBe(401);
        expect(refused.text).toContain('the token of a caller named in CALLERS');
      }
    });

    test('the audit line names the caller, never its token', async () => {
      await get(host.url, `/tcp/send?host=127.0.0.1&port=${peerA.port}&msg=hi`, bearer(TOKEN_A));
      expect(await eventually(async () => host.log().includes('"caller":"agent-a"'), 10_000), host.log()).toBe(true);
      expect(host.log()).not.toContain(TOKEN_A);
    });
  });
}
