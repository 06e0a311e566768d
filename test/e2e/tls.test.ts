// TLS through the built component on every host: implicit TLS and STARTTLS against loopback node:tls peers and
// Debian's redis-server, certificates checked against a CA made for the run (given as TLS_CA_CERTS), each
// certificate problem and handshake failure named, and the reply limits applied to plaintext.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALL_HOSTS, type RunningHost, suiteName } from '../support/hosts.js';
import { get } from '../support/http.js';
import { silentPeer, type Peer } from '../support/peers.js';
import {
  makePki,
  plaintextPeer,
  redisPeer,
  startTlsPeer,
  bulkPeer,
  tlsEchoPeer,
  type Pki,
} from '../support/tls.js';
import { needing, openssl, redisServer } from '../support/tools.js';

const MAX_REPLY_BYTES = 200_000;
const DEADLINE_MS = 3_000;

interface ErrorBody {
  error: { code: string; message: string };
  steps?: { reply: { text?: string } }[];
}

for (const kind of ALL_HOSTS.map((host) => needing(host, openssl))) {
  describe.skipIf(kind.unavailable !== undefined)(suiteName('TLS on ', kind), () => {
    let pki: Pki;
    let host: RunningHost;
    const peers: Record<string, Peer> = {};
    const send = (peer: Peer, query: string) => get(host.url, `/tcp/send?host=127.0.0.1&port=${peer.port}&tls=true&${query}`);
    const exchange = async (body: unknown) => {
      const r = await get(host.url, '/tcp/exchange', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      return { status: r.status, json: JSON.parse(r.text) };
    };
    const failure = async (peer: Peer, query: string) => {
      const r = await send(peer, query);
      return { status: r.status, ...(JSON.parse(r.text) as ErrorBody).error };
    };

    beforeAll(async () => {
      pki = makePki();
      const started = await Promise.all([
        tlsEchoPeer(pki.good, { minVersion: 'TLSv1.3' }),
        tlsEchoPeer(pki.good, { maxVersion: 'TLSv1.2' }),
        tlsEchoPeer(pki.untrusted),
        tlsEchoPeer(pki.expired),
        tlsEchoPeer(pki.namesOnly),
        tlsEchoPeer(pki.selfSigned),
        bulkPeer(pki.good, Buffer.alloc(MAX_REPLY_BYTES + 50_000, 'abcdefghijklmnopqrstuvwxyz')),
        startTlsPeer('220 ready', pki.good),
        startTlsPeer('220 ready', pki.good, { injected: '250 injected\r\n' }),
        silentPeer(),
        plaintextPeer(),
      ]);
      const names = ['tls13', 'tls12', 'untrusted', 'expired', 'namesOnly', 'selfSigned', 'bulk', 'starttls', 'injecting', 'silent', 'plaintext'];
      names.forEach((name, i) => (peers[name] = started[i]!));
      host = await kind.start({
        TLS_CA_CERTS: pki.caPem,
        ALLOWED_TARGETS: '127.0.0.0/8:*',
        REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        REPLY_IDLE_MS: '150',
        MAX_REPLY_BYTES: String(MAX_REPLY_BYTES),
      });
    });
    afterAll(async () => {
      await host?.close();
      await Promise.all(Object.values(peers).map((p) => p.close()));
      pki?.remove();
    });

    test('TLS 1.3: /tcp/send echoes over TLS and names the version and the IANA cipher suite', async () => {
      const r = await send(peers.tls13!, 'msg=hello&until=hello');
      expect(r.status).toBe(200);
      expect(r.text).toBe('echo:hello');
      expect(r.headers.get('x-reply-end')).toBe('until');
      expect(r.headers.get('x-tls-version')).toBe('TLSv1.3');
      expect(r.headers.get('x-tls-cipher')).toMatch(/^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/);
    });

    test('TLS 1.2: the same, with a TLS 1.2 suite name', async () => {
      const r = await send(peers.tls12!, 'msg=hello&until=hello&server_name=localhost');
      expect(r.status).toBe(200);
      expect(r.text).toBe('echo:hello');
      expect(r.headers.get('x-tls-version')).toBe('TLSv1.2');
      expect(r.headers.get('x-tls-cipher')).toMatch(/^TLS_ECDHE_ECDSA_WITH_/);
    });

    test('a certificate from a CA nobody trusts is 502 tls-certificate-invalid: unknown issuer, naming the server name', async () => {
      const e = await failure(peers.untrusted!, 'msg=x&server_name=localhost');
      expect(e.status).toBe(502);
      expect(e.code).toBe('tls-certificate-invalid');
      expect(e.message).toContain('unknown issuer');
      expect(e.message).toContain('"localhost"');
    });

    test('a certificate for another name is 502 tls-certificate-invalid: name mismatch', async () => {
      const e = await failure(peers.tls13!, 'msg=x&server_name=other.example');
      expect(e.code).toBe('tls-certificate-invalid');
      expect(e.message).toContain('not valid for that name');
      expect(e.message).toContain('"other.example"');
    });

    test('an expired certificate is 502 tls-certificate-invalid: expired', async () => {
      const e = await failure(peers.expired!, 'msg=x&server_name=localhost');
      expect(e.code).toBe('tls-certificate-invalid');
      expect(e.message).toContain('expired');
    });

    test('a self-signed certificate is 502 tls-certificate-invalid: self-signed', async () => {
      const e = await failure(peers.selfSigned!, 'msg=x&server_name=localhost');
      expect(e.code).toBe('tls-certificate-invalid');
      expect(e.message).toContain('self-signed');
    });

    test('an IP target needs the address in the certificate: without an IP SAN it fails, with server_name it passes', async () => {
      const e = await failure(peers.namesOnly!, 'msg=x');
      expect(e.code).toBe('tls-certificate-invalid');
      expect(e.message).toContain('"127.0.0.1"');
      const ok = await send(peers.namesOnly!, 'msg=hi&until=hi&server_name=localhost');
      expect(ok.status).toBe(200);
      expect(ok.text).toBe('echo:hi');
      // The good certificate carries 127.0.0.1: no server_name needed.
      expect((await send(peers.tls13!, 'msg=hi&until=hi')).status).toBe(200);
    });

    test('a peer that never answers the ClientHello is 504 tls-handshake-timeout within the deadline', async () => {
      const started = Date.now();
      const e = await failure(peers.silent!, 'msg=x&timeout_ms=1000');
      expect(e.status).toBe(504);
      expect(e.code).toBe('tls-handshake-timeout');
      expect(Date.now() - started).toBeLessThan(DEADLINE_MS);
    });

    test('a peer that answers the ClientHello in plaintext is 502 tls-handshake-failed', async () => {
      const e = await failure(peers.plaintext!, 'msg=x');
      expect(e.status).toBe(502);
      expect(e.code).toBe('tls-handshake-failed');
      expect(e.message).toContain('did not answer with TLS');
    });

    test('MAX_REPLY_BYTES, bytes and until count plaintext over TLS', async () => {
      const capped = await send(peers.bulk!, 'msg=go&server_name=localhost');
      expect(capped.status).toBe(200);
      expect(capped.headers.get('x-reply-end')).toBe('limit');
      expect(capped.body.length).toBe(MAX_REPLY_BYTES);
      const exact = await send(peers.bulk!, 'msg=go&bytes=100000');
      expect(exact.headers.get('x-reply-end')).toBe('bytes');
      expect(exact.body.length).toBe(100_000);
      const until = await send(peers.bulk!, 'msg=go&until=xyz');
      expect(until.headers.get('x-reply-end')).toBe('until');
      expect(until.text).toBe('abcdefghijklmnopqrstuvwxyz');
    });

    test('implicit TLS on /tcp/exchange: "tls": true, every step inside it, tls in the answer', async () => {
      const r = await exchange({
        host: '127.0.0.1',
        port: peers.tls13!.port,
        tls: { server_name: 'localhost' },
        steps: [{ send: { text: 'one' }, until: { text: 'one' } }, { send: { text: 'two' }, until: { text: 'two' } }],
      });
      expect(r.status).toBe(200);
      expect(r.json.steps.map((s: { reply: { text: string } }) => s.reply.text)).toEqual(['echo:one', 'echo:two']);
      expect(r.json.tls).toMatchObject({ version: 'TLSv1.3', step: 0 });
    });

    test('a STARTTLS dialogue: plaintext greeting and command, then TLS on the same connection', async () => {
      const r = await exchange({
        host: '127.0.0.1',
        port: peers.starttls!.port,
        steps: [
          { until: { text: '\r\n' } },
          { send: { text: 'STARTTLS\r\n' }, until: { text: '\r\n' } },
          { starttls: { server_name: 'localhost' }, send: { text: 'EHLO agent\r\n' }, until: { text: '\r\n' } },
        ],
      });
      expect(r.status).toBe(200);
      expect(r.json.steps.map((s: { reply: { text: string } }) => s.reply.text)).toEqual(['220 ready\r\n', '220 go ahead\r\n', 'echo:EHLO agent\r\n']);
      expect(r.json.tls.step).toBe(2);
      expect(['TLSv1.2', 'TLSv1.3']).toContain(r.json.tls.version);
    });

    // The dialogue of issue 21: the upgrade as a step of its own, which reads nothing (a STARTTLS server says
    // nothing after the handshake); the next step sends the first command over TLS.
    const ownUpgradeStep = (upgrade: object) => ({
      host: '127.0.0.1',
      port: peers.starttls!.port,
      steps: [
        { until: { text: '\r\n' } },
        { send: { text: 'STARTTLS\r\n' }, until: { text: '\r\n' } },
        { starttls: { server_name: 'localhost' }, ...upgrade },
        { send: { text: 'EHLO agent\r\n' }, until: { text: '\r\n' } },
      ],
    });

    test('a starttls step of its own reads nothing: the dialogue goes on over TLS with every reply', async () => {
      const r = await exchange(ownUpgradeStep({}));
      expect(r.status).toBe(200);
      expect(r.json.steps.map((s: { reply: { text: string }; end: string }) => [s.reply.text, s.end])).toEqual([
        ['220 ready\r\n', 'until'],
        ['220 go ahead\r\n', 'until'],
        ['', 'none'],
        ['echo:EHLO agent\r\n', 'until'],
      ]);
      expect(r.json.steps[2]).toMatchObject({ reply: { text: '' }, end: 'none', bytes: 0 });
      expect(r.json.tls.step).toBe(2);
    });

    test('a starttls step that asks to wait, and gets nothing after the handshake, is a read-timeout that says the replies came before the upgrade', async () => {
      const r = await exchange({ ...ownUpgradeStep({ until: { text: '\r\n' } }), timeout_ms: 500 });
      expect(r.status).toBe(504);
      expect(r.json.error.code).toBe('read-timeout');
      expect(r.json.error.message).toBe(
        `127.0.0.1:${peers.starttls!.port} sent nothing after TLS started at steps/2 (its 25 bytes in 2 steps before came before the upgrade), waiting for steps/2 before the deadline (REQUEST_DEADLINE_MS): a STARTTLS server says nothing after the handshake until the client speaks; send the next command in the step that waits (a starttls step that sends nothing and gives no until, bytes or idle_ms does not wait)`,
      );
      expect(r.json.steps.map((s: { reply: { text: string } }) => s.reply.text)).toEqual(['220 ready\r\n', '220 go ahead\r\n']);
    });

    test('STARTTLS injection is refused: bytes after the last plaintext reply fail the upgrade, naming it', async () => {
      const r = await exchange({
        host: '127.0.0.1',
        port: peers.injecting!.port,
        steps: [
          { until: { text: '\r\n' } },
          { send: { text: 'STARTTLS\r\n' }, until: { text: '\r\n' } },
          { starttls: { server_name: 'localhost' }, send: { text: 'EHLO agent\r\n' }, until: { text: '\r\n' } },
        ],
      });
      expect(r.status).toBe(502);
      expect(r.json.error.code).toBe('tls-handshake-failed');
      expect(r.json.error.message).toContain('STARTTLS injection');
      expect(r.json.steps).toHaveLength(2);
    });

    test.skipIf(redisServer.missing !== undefined)("Debian's redis-server on its TLS port answers PING", async () => {
      const redis = await redisPeer(pki.good);
      try {
        const r = await get(host.url, `/tcp/send?host=127.0.0.1&port=${redis.port}&tls=true&server_name=localhost&msg=PING%0D%0A&until=%0D%0A`);
        expect(r.status).toBe(200);
        expect(r.text).toBe('+PONG\r\n');
        expect(r.headers.get('x-tls-version')).toBe('TLSv1.3');
      } finally {
        await redis.close();
      }
    });

    test('the MCP tool runs a dialogue over TLS', async () => {
      const r = await get(host.url, '/mcp', {
        method: 'POST',
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'tcp_exchange', arguments: { host: '127.0.0.1', port: peers.tls13!.port, tls: true, steps: [{ send: { text: 'mcp' }, until: { text: 'mcp' } }] } },
        }),
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      });
      const result = JSON.parse(r.text).result;
      expect(result.isError).toBe(false);
      expect(result.structuredContent.steps[0].reply.text).toBe('echo:mcp');
      expect(result.structuredContent.tls.version).toBe('TLSv1.3');
    });

    test('hostile server names are 400s, and server_name never changes where the connection goes', async () => {
      for (const name of ['a%0D%0Ab', '..', '', 'exa%20mple.com', 'x'.repeat(300), '1.2.3', 'host%00.example', '[::1', 'a.b:443']) {
        const r = await send(peers.tls13!, `msg=x&server_name=${name}`);
        expect([r.status, name]).toEqual([400, name]);
      }
      // A denied name as server_name is only a name: the connection still goes to the allowed 127.0.0.1.
      const r = await send(peers.tls13!, 'msg=x&server_name=metadata.google.internal');
      expect(r.status).toBe(502);
      expect(JSON.parse(r.text).error.code).toBe('tls-certificate-invalid');
    });
  });
}
