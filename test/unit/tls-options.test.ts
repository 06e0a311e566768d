// How callers ask for TLS, through the app with a scripted network: tls=/server_name= on the query doors,
// "tls"/"starttls" in dialogues, the server name each connection checks (never where it goes), hostile server
// names refused, TLS info in headers and JSON, and TLS_CA_CERTS read by the engine's reader.

import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { Config, type Environment, type TlsRootsReader } from '../../src/settings/config.js';
import type { Reply } from '../../src/net/dialogue.js';
import { RootsUnreadable } from '../../src/net/tls/engine.js';
import { fakeNetwork, v4 } from '../support/fake-network.js';

const TLS_REPLY: Reply = { bytes: new TextEncoder().encode('pong'), end: 'until', ms: 1, tls: { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' } };

function appWith(env: Environment = {}, readRoots?: TlsRootsReader) {
  const fake = fakeNetwork({ names: { 'db.example': [v4(127, 0, 0, 9)] }, peers: { '127.0.0.1:6380': () => TLS_REPLY, '127.0.0.9:6380': () => TLS_REPLY } });
  const config = new Config({ ALLOWED_TARGETS: '127.0.0.0/8:*', ...env }, readRoots);
  const audit: string[] = [];
  const app = createApp({ config: () => config, network: fake.network, writeAuditLine: (line) => audit.push(line) });
  const call = async (path: string, init?: RequestInit) => {
    const response = await app(new Request(`http://component.local${path}`, init));
    const text = await response.text();
    const json = response.headers.get('content-type') === 'application/json' ? JSON.parse(text) : undefined;
    return { status: response.status, text, json, headers: response.headers };
  };
  const exchange = (body: unknown) => call('/tcp/exchange', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { ...fake, call, exchange, audit };
}

describe('tls=true and server_name= on /tcp/send and GET /', () => {
  test('the server name defaults to the host: the name for a name, the address for an IP', async () => {
    const { call, calls } = appWith();
    expect((await call('/tcp/send?host=db.example&port=6380&tls=true&msg=x')).status).toBe(200);
    expect((await call('/tcp/send?host=127.0.0.1&port=6380&tls=true&msg=x')).status).toBe(200);
    expect(calls.map((c) => [c.to, c.steps[0]!.tls?.serverName])).toEqual([
      ['127.0.0.9:6380', 'db.example'],
      ['127.0.0.1:6380', '127.0.0.1'],
    ]);
  });

  test('server_name is what the certificate is checked for, never where the connection goes', async () => {
    const { call, calls, lookups } = appWith();
    await call('/tcp/send?host=127.0.0.1&port=6380&tls=true&server_name=Db.Example.&msg=x');
    expect(calls[0]!.to).toBe('127.0.0.1:6380');
    expect(calls[0]!.steps[0]!.tls?.serverName).toBe('db.example');
    expect(lookups).toEqual([]);
  });

  test('the reply names the TLS version and cipher suite in headers', async () => {
    const r = await appWith().call('/tcp/send?host=127.0.0.1&port=6380&tls=true&msg=x');
    expect(r.headers.get('x-tls-version')).toBe('TLSv1.3');
    expect(r.headers.get('x-tls-cipher')).toBe('TLS_AES_128_GCM_SHA256');
  });

  test('the audit line records the TLS version and the server name checked', async () => {
    const { call, audit } = appWith();
    await call('/tcp/send?host=127.0.0.1&port=6380&tls=true&server_name=db.example&msg=x');
    expect(JSON.parse(audit[0]!)).toMatchObject({ connected: '127.0.0.1:6380', tls_version: 'TLSv1.3', server_name: 'db.example' });
  });

  test('GET / with tls=true defaults to port 443 and leaves it out of the Host header', async () => {
    const { call, calls } = appWith();
    await call('/?host=db.example&tls=true');
    expect(calls[0]!.to).toBe('127.0.0.9:443');
    expect(calls[0]!.message).toContain('Host: db.example\r\n');
  });

  test('without tls and server_name there is no TLS; server_name alone is TLS with that name; tls takes only true', async () => {
    const { call, calls } = appWith();
    await call('/tcp/send?host=127.0.0.1&port=6380&msg=x');
    expect(calls[0]!.steps[0]!.tls).toBeUndefined();
    expect((await call('/tcp/send?host=127.0.0.1&port=6380&msg=x&server_name=a.example')).status).toBe(200);
    expect(calls[1]!.steps[0]!.tls?.serverName).toBe('a.example');
    const refused = await call('/tcp/send?host=127.0.0.1&port=6380&msg=x&tls=false');
    expect([refused.status, refused.json?.error?.code]).toEqual([400, 'invalid-parameter']);
    expect(calls).toHaveLength(2);
  });

  const notTrue = (value: string) => `tls "${value}" is not true: give tls=true for TLS, or leave it out for plain TCP`;
  const notAName = (value: string) => `server_name ${JSON.stringify(value)} is not a DNS name or an IP address`;
  test.each([
    ['tls', 'yes', notTrue('yes')],
    ['tls', 'TRUE', notTrue('TRUE')],
    ['tls', '1', notTrue('1')],
    ['server_name', '', notAName('')],
    ['server_name', 'a%0D%0AHost:%20evil', notAName('a\r\nHost: evil')],
    ['server_name', 'a%00b', notAName('a\0b')],
    ['server_name', 'exa%20mple.com', notAName('exa mple.com')],
    ['server_name', '..', notAName('..')],
    ['server_name', '-a.example', notAName('-a.example')],
    ['server_name', 'a.b:443', notAName('a.b:443')],
    ['server_name', '1.2.3', notAName('1.2.3')],
    ['server_name', 'foo.123', notAName('foo.123')],
    ['server_name', '0x7f.0.0.1', notAName('0x7f.0.0.1')],
    ['server_name', '[127.0.0.1]', notAName('[127.0.0.1]')],
    ['server_name', 'fe80::1%25eth0', notAName('fe80::1%eth0')],
    ['server_name', 'https://a.example/', notAName('https://a.example/')],
    ['server_name', '%C3%A9.example', notAName('é.example')],
    ['server_name', 'x'.repeat(254), notAName(`${'x'.repeat(80)}…`)],
  ])('%s=%s is a 400 invalid-parameter that says why', async (name, value, message) => {
    const { call, calls } = appWith();
    const r = await call(`/tcp/send?host=127.0.0.1&port=6380&msg=x&tls=${name === 'tls' ? value : 'true'}${name === 'server_name' ? `&server_name=${value}` : ''}`);
    expect([r.status, r.json?.error?.code]).toEqual([400, 'invalid-parameter']);
    expect(r.json.error.message).toContain(message);
    expect(calls).toEqual([]);
  });

  test('a dialogue takes the server names the query takes: foo.1a is a name (its last label is not a number)', async () => {
    const { call, exchange, calls } = appWith();
    expect((await call('/tcp/send?host=127.0.0.1&port=6380&msg=x&server_name=foo.1a')).status).toBe(200);
    expect((await exchange({ host: '127.0.0.1', port: 6380, tls: { server_name: 'foo.1a' }, steps: [{}] })).status).toBe(200);
    expect((await exchange({ host: '127.0.0.1', port: 6380, steps: [{}, { starttls: { server_name: 'Foo.1A.' } }] })).status).toBe(200);
    expect(calls.map((c) => c.steps.map((s) => s.tls?.serverName))).toEqual([['foo.1a'], ['foo.1a'], [undefined, 'foo.1a']]);
  });

  test.each([
    ['localhost', 'localhost'],
    ['db.example.', 'db.example'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
  ])('server_name=%s is checked as %s', async (given, expected) => {
    const { call, calls } = appWith();
    expect((await call(`/tcp/send?host=127.0.0.1&port=6380&msg=x&tls=true&server_name=${given}`)).status).toBe(200);
    expect(calls[0]!.steps[0]!.tls?.serverName).toBe(expected);
  });
});

describe('"tls" and "starttls" in a dialogue', () => {
  test('"tls": true starts TLS on the first step; the answer names it', async () => {
    const { exchange, calls } = appWith();
    const r = await exchange({ host: '127.0.0.1', port: 6380, tls: true, steps: [{ send: { text: 'a' } }, { send: { text: 'b' } }] });
    expect(r.status).toBe(200);
    expect(calls[0]!.steps.map((s) => s.tls?.serverName)).toEqual(['127.0.0.1', undefined]);
    expect(r.json.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', step: 0 });
  });

  test('a starttls step starts TLS there, with its server name', async () => {
    const { exchange, calls } = appWith();
    await exchange({ host: '127.0.0.1', port: 6380, steps: [{ until: { text: '\n' } }, { starttls: { server_name: 'mail.example' }, send: { text: 'EHLO\r\n' } }] });
    expect(calls[0]!.steps.map((s) => s.tls?.serverName)).toEqual([undefined, 'mail.example']);
  });

  const SCHEMA = ' (the schema is in GET /openapi.json)';
  test.each([
    [{ tls: true, steps: [{ starttls: true }] }, 'invalid-body', `steps/0/starttls: the dialogue already starts with TLS ("tls"); TLS starts once per connection${SCHEMA}`],
    [{ tls: { server_name: 'a.example' }, steps: [{}, { starttls: true }] }, 'invalid-body', `steps/1/starttls: the dialogue already starts with TLS ("tls"); TLS starts once per connection${SCHEMA}`],
    [{ steps: [{ starttls: true }, { starttls: true }] }, 'invalid-body', `steps: items 0 and 1 have starttls; at most 1 may (TLS starts once per connection)${SCHEMA}`],
    [{ tls: 'yes', steps: [{}] }, 'invalid-body', `tls: is the string "yes"; give a boolean or an object with server_name${SCHEMA}`],
    [{ steps: [{ starttls: false }] }, 'invalid-body', `steps/0/starttls: is false; give true or an object with server_name${SCHEMA}`],
    [{ tls: { server_name: 'a.example', verify: false }, steps: [{}] }, 'invalid-body', `tls: has an unknown field "verify" (the fields are server_name)${SCHEMA}`],
    [{ tls: { server_name: 7 }, steps: [{}] }, 'invalid-body', `tls/server_name: is the number 7; give a string${SCHEMA}`],
    [{ tls: { server_name: 'a\r\nb' }, steps: [{}] }, 'invalid-parameter', 'tls/server_name "a\\r\\nb" is not a DNS name or an IP address'],
    [{ tls: { server_name: '0'.repeat(200) }, steps: [{}] }, 'invalid-parameter', `tls/server_name "${'0'.repeat(80)}…" is not a DNS name or an IP address`],
    [{ tls: { server_name: '::ffff:1.2.3' }, steps: [{}] }, 'invalid-parameter', 'tls/server_name "::ffff:1.2.3" is not a DNS name or an IP address'],
    [{ tls: { server_name: 'x'.repeat(301) }, steps: [{}] }, 'invalid-body', `tls/server_name: is 301 characters long; give 1 to 300 characters${SCHEMA}`],
    [{ steps: [{ starttls: { server_name: '' } }] }, 'invalid-body', `steps/0/starttls/server_name: is empty; give 1 to 300 characters${SCHEMA}`],
    [{ steps: [{ starttls: { server_name: 'foo.123' } }] }, 'invalid-parameter', 'steps/0/starttls/server_name "foo.123" is not a DNS name or an IP address'],
  ])('%j is refused: %s, %s', async (body, code, message) => {
    const { exchange, calls } = appWith();
    const r = await exchange({ host: '127.0.0.1', port: 6380, ...body });
    expect([r.status, r.json.error.code]).toEqual([400, code]);
    expect(r.json.error.message).toContain(message);
    expect(calls).toEqual([]);
  });
});

describe('TLS_CA_CERTS', () => {
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  test("is read by the engine's reader, and given to every TLS start", async () => {
    const read: string[] = [];
    const { call, calls } = appWith({ TLS_CA_CERTS: PEM }, (pem) => (read.push(pem), 1));
    await call('/tcp/send?host=127.0.0.1&port=6380&tls=true&msg=x');
    expect(read).toEqual([PEM]);
    expect(calls[0]!.steps[0]!.tls?.extraRootsPem).toBe(PEM);
  });

  test('unreadable or empty of certificates, it is config-invalid, listed by /ready without its value', async () => {
    const EMPTY = 'it holds no certificate';
    const UNREADABLE = 'certificate 1: the base64 between BEGIN and END does not decode';
    const readers: [reader: (pem: string) => number, why: string][] = [
      [() => 0, EMPTY],
      [() => { throw new RootsUnreadable(UNREADABLE); }, UNREADABLE],
    ];
    for (const [reader, why] of readers) {
      const { call } = appWith({ TLS_CA_CERTS: 'SECRET-LOOKING TEXT' }, reader);
      const ready = await call('/ready');
      expect(ready.status).toBe(503);
      expect(ready.json.settings.map((s: { name: string }) => s.name)).toEqual(['TLS_CA_CERTS']);
      expect(ready.text).not.toContain('SECRET-LOOKING');
      const r = await call('/tcp/send?host=127.0.0.1&port=6380&tls=true&msg=x');
      expect([r.status, r.json.error.code]).toEqual([503, 'config-invalid']);
      expect(r.json.error.message).toContain(`setting TLS_CA_CERTS is invalid: ${why}`);
      expect(r.text).not.toContain('SECRET-LOOKING');
      // Plaintext connections do not need it.
      expect((await call('/tcp/send?host=127.0.0.1&port=6380&msg=x')).status).toBe(200);
    }
  });
});
