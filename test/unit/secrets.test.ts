// checkSecretUse, assembleSend, sendLength and secretUses: where a secret may go, and its bytes only when sent.

import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { parseIpv4, parseIpv6, type IpAddress } from '../../src/net/ip.js';
import { type Secret, type SecretTable, assembleSend, checkSecretUse, secretUses, sendLength } from '../../src/net/secrets.js';
import { parseEntries } from '../../src/settings/config.js';
import { makeTarget } from '../../src/net/target.js';

const encoder = new TextEncoder();
const VALUE = 'redis-password-of-the-operator';

function secret(name: string, destinations: string, requireTls?: boolean): Secret {
  return { name, value: encoder.encode(`${VALUE}-${name}`), destinations: parseEntries('ALLOWED_TARGETS', destinations), requireTls };
}
const TABLE: SecretTable = new Map([
  ['REDIS', secret('REDIS', '10.20.0.5:6379,127.0.0.1:6379,redis.internal:6379')],
  ['SMTP', secret('SMTP', '10.20.0.7:587', true)],
  ['PLAIN', secret('PLAIN', '10.20.0.9:6379', false)],
]);
const OPS = { name: 'ops-bot', secrets: new Set(['REDIS', 'SMTP', 'PLAIN']) };
const ip = (text: string): IpAddress => (text.includes(':') ? parseIpv6(text) : parseIpv4(text))!;
const use = (name: string, tls = true, step = 1) => ({ name, step, tls });

function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('checkSecretUse(caller, table, uses, target, address)', () => {
  test('returns each secret used once, in order of first use, when every check passes', () => {
    const table: SecretTable = new Map([...TABLE, ['PLAIN', secret('PLAIN', '10.20.0.5:6379', false)]]);
    const used = checkSecretUse(OPS, table, [use('REDIS'), use('PLAIN', false, 2), use('REDIS', true, 3)], makeTarget('10.20.0.5', 6379), ip('10.20.0.5'));
    expect(used.map((s) => s.name)).toEqual(['REDIS', 'PLAIN']);
    expect(used[0]).toBe(table.get('REDIS'));
  });

  test('a secret the caller may not use is 403 secret-denied, whether or not it exists, and says neither value nor existence', () => {
    const bot = { name: 'report-bot', secrets: new Set(['SMTP']) };
    for (const name of ['REDIS', 'NO_SUCH']) {
      const error = refusal(() => checkSecretUse(bot, TABLE, [use(name)], makeTarget('10.20.0.5', 6379), ip('10.20.0.5')));
      expect(error.code).toBe('secret-denied');
      expect(error.status).toBe(403);
      expect(error.message).toBe(`step 1 names the secret "${name}", which caller "report-bot" may not use (its secrets in CALLERS)`);
    }
  });

  test('an unknown name is 400 invalid-request for a caller allowed every secret (AUTH_TOKEN)', () => {
    const error = refusal(() => checkSecretUse({ name: 'default', secrets: 'all' }, TABLE, [use('NO_SUCH', true, 2)], makeTarget('10.20.0.5', 6379), ip('10.20.0.5')));
    expect([error.code, error.status, error.message]).toEqual(['invalid-request', 400, 'step 2 names the secret "NO_SUCH", which SECRETS does not hold']);
  });

  test('an address outside the secret\'s destinations is 403 secret-denied naming the address', () => {
    const error = refusal(() => checkSecretUse(OPS, TABLE, [use('REDIS')], makeTarget('attacker.example', 6379), ip('203.0.113.9')));
    expect(error.code).toBe('secret-denied');
    expect(error.message).toBe('the secret "REDIS" may not be sent to attacker.example:6379 (resolved to 203.0.113.9): it is not one of the secret\'s destinations (SECRETS); nothing was sent');
  });

  test('the right address on another port is outside the destinations', () => {
    const error = refusal(() => checkSecretUse(OPS, TABLE, [use('REDIS')], makeTarget('10.20.0.5', 6380), ip('10.20.0.5')));
    expect(error.message).toContain('may not be sent to 10.20.0.5:6380');
  });

  test('a name destination matches the name asked, not another name that resolves to the same address', () => {
    expect(checkSecretUse(OPS, TABLE, [use('REDIS')], makeTarget('redis.internal', 6379), ip('192.0.2.1'))).toHaveLength(1);
    expect(refusal(() => checkSecretUse(OPS, TABLE, [use('REDIS')], makeTarget('evil.internal', 6379), ip('192.0.2.1'))).code).toBe('secret-denied');
  });

  test('by default TLS is required except to loopback', () => {
    const error = refusal(() => checkSecretUse(OPS, TABLE, [use('REDIS', false, 2)], makeTarget('10.20.0.5', 6379), ip('10.20.0.5')));
    expect(error.message).toBe('the secret "REDIS" requires TLS (the default for an address that is not loopback), and step 2 would send it to 10.20.0.5:6379 before TLS has started; nothing was sent');
    expect(checkSecretUse(OPS, TABLE, [use('REDIS', false)], makeTarget('127.0.0.1', 6379), ip('127.0.0.1'))).toHaveLength(1);
  });

  test('require_tls true holds even to loopback; false never asks for TLS', () => {
    const loopbackSmtp: SecretTable = new Map([['SMTP', secret('SMTP', '127.0.0.1:587', true)]]);
    const error = refusal(() => checkSecretUse(OPS, loopbackSmtp, [use('SMTP', false)], makeTarget('127.0.0.1', 587), ip('127.0.0.1')));
    expect(error.message).toContain('requires TLS (its require_tls)');
    expect(checkSecretUse(OPS, TABLE, [use('PLAIN', false)], makeTarget('10.20.0.9', 6379), ip('10.20.0.9'))).toHaveLength(1);
  });

  test('an IPv4-mapped loopback address is loopback; an address of 127/8 only in the name is not', () => {
    const table: SecretTable = new Map([['REDIS', secret('REDIS', '127.0.0.1:6379,localhost.example:6379')]]);
    expect(checkSecretUse(OPS, table, [use('REDIS', false)], makeTarget('[::ffff:127.0.0.1]', 6379), ip('::ffff:127.0.0.1'))).toHaveLength(1);
    expect(refusal(() => checkSecretUse(OPS, table, [use('REDIS', false)], makeTarget('localhost.example', 6379), ip('192.0.2.5'))).message).toContain('requires TLS');
  });

  test('the first refused use decides, in step order; no message holds a value', () => {
    const error = refusal(() => checkSecretUse(OPS, TABLE, [use('REDIS', true, 1), use('SMTP', true, 2)], makeTarget('10.20.0.5', 6379), ip('10.20.0.5')));
    expect(error.message).toMatch(/^the secret "SMTP" may not be sent/);
    for (const s of TABLE.values()) expect(error.message).not.toContain(new TextDecoder().decode(s.value));
    expect(error.message).not.toContain(VALUE);
  });

  test('a hostile name in a request is shown quoted and cut, never raw', () => {
    const name = `X"\n${'y'.repeat(200)}`;
    const error = refusal(() => checkSecretUse(OPS, TABLE, [use(name)], makeTarget('10.20.0.5', 6379), ip('10.20.0.5')));
    expect(error.message).toContain(JSON.stringify(`${name.slice(0, 64)}…`));
  });
});

describe('assembleSend(parts, table) and sendLength(parts, table)', () => {
  test('puts bytes and secret values together in order', () => {
    const parts = [encoder.encode('AUTH '), { secret: 'REDIS' }, encoder.encode('\r\n')];
    expect(new TextDecoder().decode(assembleSend(parts, TABLE))).toBe(`AUTH ${VALUE}-REDIS\r\n`);
    expect(sendLength(parts, TABLE)).toBe(5 + `${VALUE}-REDIS`.length + 2);
  });

  test('an unknown secret is 400 invalid-request, its name shown, no value', () => {
    const error = refusal(() => assembleSend([{ secret: 'NOPE' }], TABLE));
    expect([error.code, error.message]).toEqual(['invalid-request', 'a step names the secret "NOPE", which SECRETS does not hold']);
    expect(refusal(() => sendLength([{ secret: 'NOPE' }], TABLE)).code).toBe('invalid-request');
  });

  test('no parts make no bytes', () => {
    expect(assembleSend([], TABLE)).toEqual(new Uint8Array(0));
  });
});

describe('secretUses(steps, tlsAt)', () => {
  test('lists each secret part with its step and whether TLS has started by then', () => {
    const steps = [[encoder.encode('EHLO x\r\n')], [{ secret: 'SMTP' }, encoder.encode('\r\n')], [{ secret: 'REDIS' }, { secret: 'SMTP' }]];
    expect(secretUses(steps, [false, true, true])).toEqual([
      { name: 'SMTP', step: 2, tls: true },
      { name: 'REDIS', step: 3, tls: true },
      { name: 'SMTP', step: 3, tls: true },
    ]);
  });
});
