// SECRETS through the built component on each host, as an attacker holding a caller's token would try them:
// a secret's value reaches its destination (a loopback echo, a TLS echo, Debian's redis-server asking for AUTH
// over TLS and over loopback plaintext, a mail server's AUTH PLAIN after STARTTLS) and never comes back; sent to a peer outside its destinations, over plaintext where it needs TLS, or by a
// caller that may not use it, it is refused and that peer sees no connection; no value in the audit or stderr.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { get } from '../support/http.js';
import { type Peer, echoPeer, eventually, silentPeer } from '../support/peers.js';
import { makePki, type Pki, redisPeer, startTlsPeer, tlsEchoPeer } from '../support/tls.js';
import { needing, openssl, redisServer } from '../support/tools.js';

const TOKEN_A = 'secrets-e2e-token-a-0123456789';
const TOKEN_B = 'secrets-e2e-token-b-9876543210';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const VALUES = {
  PLAIN_TOKEN: 'plain-token-value-0001',
  TLS_TOKEN: 'tls-token-value-0002',
  REDIS_PASSWORD: 'redis-password-value-0003',
  // SMTP AUTH PLAIN's argument (RFC 4616): base64 of NUL, the user, NUL, the password, as an operator stores it.
  MAIL_LOGIN: Buffer.from('\0agent@example.test\0mail-password-value-0004').toString('base64'),
};
/** A mail server's answer to a line after STARTTLS: it logs in only the right AUTH PLAIN. */
const mailLogin = (chunk: Buffer) => (chunk.toString() === `AUTH PLAIN ${VALUES.MAIL_LOGIN}\r\n` ? '235 2.7.0 Authentication successful\r\n' : '535 5.7.8 Authentication credentials invalid\r\n');

interface Body {
  steps: { reply: { text?: string }; redacted?: true }[];
  redacted?: true;
  error?: { code: string; message: string };
  result?: { tools: { description: string }[] };
}

const authStep = (name: string, command = 'AUTH') => ({ send: [{ text: `${command} ` }, { secret: name }, { text: '\r\n' }], until: { text: '\r\n' } });

for (const kind of ALL_HOSTS.map((host) => needing(host, openssl))) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('secrets, on ', kind), () => {
    let pki: Pki;
    let echo: Peer;
    let tlsEcho: Peer;
    let outsider: Peer;
    let redis: Peer | undefined;
    let plainRedis: Peer | undefined;
    let mail: Peer;
    let host: RunningHost;

    const exchange = async (token: string, body: unknown) => {
      const r = await get(host.url, '/tcp/exchange', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
      return { status: r.status, text: r.text, json: JSON.parse(r.text) as Body };
    };
    const expectNoValueIn = (text: string) => {
      for (const value of Object.values(VALUES)) expect(text).not.toContain(value);
    };

    beforeAll(async () => {
      pki = makePki();
      [echo, tlsEcho, outsider, mail] = await Promise.all([echoPeer(), tlsEchoPeer(pki.good), silentPeer(), startTlsPeer('220 mail.test ESMTP', pki.good, { respond: mailLogin })]);
      if (redisServer.missing === undefined) {
        [redis, plainRedis] = await Promise.all([redisPeer(pki.good, { requirepass: VALUES.REDIS_PASSWORD }), redisPeer(undefined, { requirepass: VALUES.REDIS_PASSWORD })]);
      }
      const loopback = (peer: Peer | undefined) => (peer ? [`127.0.0.1:${peer.port}`] : []);
      const everyPeer = [echo, tlsEcho, outsider, mail, redis, plainRedis].flatMap(loopback).join(',');
      const callers = {
        'agent-a': { token_sha256: digest(TOKEN_A), allowed_targets: everyPeer, secrets: ['PLAIN_TOKEN', 'TLS_TOKEN', 'REDIS_PASSWORD', 'MAIL_LOGIN'] },
        'agent-b': { token_sha256: digest(TOKEN_B), allowed_targets: everyPeer, secrets: [] },
      };
      const secrets = {
        PLAIN_TOKEN: { value: VALUES.PLAIN_TOKEN, destinations: `127.0.0.1:${echo.port}` },
        // TLS required even to loopback; the outsider (plain TCP) is one of its destinations, so only TLS stops it there.
        TLS_TOKEN: { value: VALUES.TLS_TOKEN, destinations: `127.0.0.1:${tlsEcho.port},127.0.0.1:${outsider.port}`, require_tls: true },
        // Over TLS to the TLS port; in plaintext to the plain port, on loopback (the default allows it there).
        REDIS_PASSWORD: { value: VALUES.REDIS_PASSWORD, destinations: [redis, plainRedis].flatMap(loopback).join(',') || '127.0.0.1:1' },
        MAIL_LOGIN: { value: VALUES.MAIL_LOGIN, destinations: `127.0.0.1:${mail.port}`, require_tls: true },
      };
      host = await kind.start({
        CALLERS: JSON.stringify(callers),
        SECRETS: JSON.stringify(secrets),
        ALLOWED_TARGETS: everyPeer,
        TLS_CA_CERTS: pki.caPem,
        REPLY_IDLE_MS: '200',
      });
    });

    afterAll(async () => {
      await host?.close();
      await Promise.all([echo, tlsEcho, outsider, mail, redis, plainRedis].map((peer) => peer?.close()));
      pki?.remove();
    });

    test('the peer receives the value in place of the part; its echo comes back as the marker', async () => {
      const r = await exchange(TOKEN_A, { host: '127.0.0.1', port: echo.port, steps: [authStep('PLAIN_TOKEN')] });
      expect(r.status, r.text).toBe(200);
      expect(r.json.steps[0]).toMatchObject({ reply: { text: 'echo:AUTH [secret:PLAIN_TOKEN]\r\n' }, redacted: true });
      expect(r.json.redacted).toBe(true);
      expect(Buffer.concat(echo.received).toString()).toContain(`AUTH ${VALUES.PLAIN_TOKEN}\r\n`);
      expectNoValueIn(r.text);
    });

    test('over TLS (its require_tls), the value goes through the TLS channel and its echo is redacted', async () => {
      const r = await exchange(TOKEN_A, { host: '127.0.0.1', port: tlsEcho.port, tls: { server_name: 'localhost' }, steps: [authStep('TLS_TOKEN')] });
      expect(r.status, r.text).toBe(200);
      // The marker stands exactly where the value was: the peer received those bytes, whole.
      expect(r.json.steps[0]).toMatchObject({ reply: { text: 'echo:AUTH [secret:TLS_TOKEN]\r\n' }, redacted: true });
      expectNoValueIn(r.text);
    });

    test("to a peer the caller may reach but outside the secret's destinations: 403, and that peer sees no connection", async () => {
      const r = await exchange(TOKEN_A, { host: '127.0.0.1', port: outsider.port, steps: [authStep('PLAIN_TOKEN')] });
      expect([r.status, r.json.error?.code]).toEqual([403, 'secret-denied']);
      expect(r.json.error?.message).toBe(`the secret "PLAIN_TOKEN" may not be sent to 127.0.0.1:${outsider.port}: it is not one of the secret's destinations (SECRETS); nothing was sent`);
      expect(outsider.received).toEqual([]);
    });

    test('in plaintext where the secret requires TLS: 403 before connecting', async () => {
      const r = await exchange(TOKEN_A, { host: '127.0.0.1', port: outsider.port, steps: [authStep('TLS_TOKEN')] });
      expect([r.status, r.json.error?.code]).toEqual([403, 'secret-denied']);
      expect(r.json.error?.message).toBe(`the secret "TLS_TOKEN" requires TLS (its require_tls), and step 1 would send it to 127.0.0.1:${outsider.port} before TLS has started; nothing was sent`);
      expect(outsider.received).toEqual([]);
    });

    test("by a caller that may not use it (another caller's secret): 403, and its destination sees no connection", async () => {
      const before = echo.received.length;
      const r = await exchange(TOKEN_B, { host: '127.0.0.1', port: echo.port, steps: [authStep('PLAIN_TOKEN')] });
      expect([r.status, r.json.error?.code]).toEqual([403, 'secret-denied']);
      expect(r.json.error?.message).toBe('steps/0/send/1 names the secret "PLAIN_TOKEN", which caller "agent-b" may not use (its secrets in CALLERS)');
      expect(echo.received.length).toBe(before);
    });

    test('the MCP tool tells each caller its own secrets by name and destination, never a value', async () => {
      const list = async (token: string) => {
        const r = await get(host.url, '/mcp', {
          method: 'POST',
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', authorization: `Bearer ${token}` },
        });
        expectNoValueIn(r.text);
        return (JSON.parse(r.text) as Body).result!.tools[0]!.description;
      };
      expect(await list(TOKEN_A)).toContain(`PLAIN_TOKEN (to 127.0.0.1:${echo.port}; TLS required except to loopback)`);
      expect(await list(TOKEN_B)).not.toContain('PLAIN_TOKEN');
    });

    test.skipIf(redisServer.missing !== undefined)("Debian's redis-server asking for AUTH over TLS: the secret logs in, and ECHO of it comes back redacted", async () => {
      const r = await exchange(TOKEN_A, {
        host: '127.0.0.1',
        port: redis!.port,
        tls: { server_name: 'localhost' },
        steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }, authStep('REDIS_PASSWORD'), { send: { text: 'PING\r\n' }, until: { text: '\r\n' } }, authStep('REDIS_PASSWORD', 'ECHO'), { until: { text: '\r\n' } }],
      });
      expect(r.status, r.text).toBe(200);
      expect(r.json.steps.map((step) => step.reply.text)).toEqual(['-NOAUTH Authentication required.\r\n', '+OK\r\n', '+PONG\r\n', `$${VALUES.REDIS_PASSWORD.length}\r\n`, '[secret:REDIS_PASSWORD]\r\n']);
      expectNoValueIn(r.text);
    });

    test.skipIf(redisServer.missing !== undefined)("Debian's redis-server asking for AUTH in plaintext on loopback: the secret logs in", async () => {
      const r = await exchange(TOKEN_A, {
        host: '127.0.0.1',
        port: plainRedis!.port,
        steps: [{ send: { text: 'PING\r\n' }, until: { text: '\r\n' } }, authStep('REDIS_PASSWORD'), { send: { text: 'PING\r\n' }, until: { text: '\r\n' } }],
      });
      expect(r.status, r.text).toBe(200);
      expect(r.json.steps.map((step) => step.reply.text)).toEqual(['-NOAUTH Authentication required.\r\n', '+OK\r\n', '+PONG\r\n']);
      expectNoValueIn(r.text);
    });

    test('a mail server after STARTTLS: AUTH PLAIN with the secret logs in; before STARTTLS it is refused and nothing is sent', async () => {
      const login = { send: [{ text: 'AUTH PLAIN ' }, { secret: 'MAIL_LOGIN' }, { text: '\r\n' }], until: { text: '\r\n' } };
      const greeting = { until: { text: '\r\n' } };
      const starttls = { send: { text: 'STARTTLS\r\n' }, until: { text: '\r\n' } };
      const r = await exchange(TOKEN_A, { host: '127.0.0.1', port: mail.port, steps: [greeting, starttls, { starttls: { server_name: 'localhost' } }, login] });
      expect(r.status, r.text).toBe(200);
      expect(r.json.steps.map((step) => step.reply.text)).toEqual(['220 mail.test ESMTP\r\n', '220 go ahead\r\n', '', '235 2.7.0 Authentication successful\r\n']);
      const before = mail.received.length;
      const early = await exchange(TOKEN_A, { host: '127.0.0.1', port: mail.port, steps: [greeting, login] });
      expect([early.status, early.json.error?.code]).toEqual([403, 'secret-denied']);
      expect(early.json.error?.message).toContain('step 2 would send it');
      expect(mail.received.length).toBe(before);
    });

    test('the audit line names the caller and the secrets used; no value reaches the log', async () => {
      await exchange(TOKEN_A, { host: '127.0.0.1', port: echo.port, steps: [authStep('PLAIN_TOKEN')] });
      expect(await eventually(async () => host.log().includes('"caller":"agent-a"') && host.log().includes('"secrets":["PLAIN_TOKEN"]'), 10_000), host.log()).toBe(true);
      expect(host.log()).toContain('"code":"secret-denied"');
      expectNoValueIn(host.log());
    });
  });
}
