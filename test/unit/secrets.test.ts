// secretFor, checkSecretDestinations and SecretMessage: which secrets a caller may name, where they may go, and
// their bytes only when sent.

import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { parseIpv4, parseIpv6, type IpAddress } from '../../src/net/ip.js';
import { type Secret, type SecretTable, SecretMessage, checkSecretDestinations, secretFor, secretsOf } from '../../src/net/secrets.js';
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
const TLS = { serverName: 'x', extraRootsPem: '' };
/** A dialogue whose step `step` (from 1) sends `secretName`, with TLS started at step 1 when `tls`. */
function stepsSending(secretName: string, { tls = true, step = 1, table = TABLE } = {}) {
  return Array.from({ length: step }, (_, i) => ({
    ...(tls && i === 0 && { tls: TLS }),
    send: i === step - 1 ? new SecretMessage([encoder.encode('AUTH '), table.get(secretName)!]) : encoder.encode('PING\r\n'),
  }));
}

function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('secretFor(caller, table, name, where)', () => {
  test('gives the secret a caller may use', () => {
    expect(secretFor(OPS, TABLE, 'REDIS', 'steps/0/send/1')).toBe(TABLE.get('REDIS'));
    expect(secretFor({ name: 'default', secrets: 'all' }, TABLE, 'SMTP', 'steps/0/send/1')).toBe(TABLE.get('SMTP'));
  });

  test('a secret the caller may not use is 403 secret-denied, whether or not it exists, and says neither value nor existence', () => {
    const bot = { name: 'report-bot', secrets: new Set(['SMTP']) };
    for (const name of ['REDIS', 'NO_SUCH']) {
      const error = refusal(() => secretFor(bot, TABLE, name, 'steps/0/send/1'));
      expect([error.code, error.status]).toEqual(['secret-denied', 403]);
      expect(error.message).toBe(`steps/0/send/1 names the secret "${name}", which caller "report-bot" may not use (its secrets in CALLERS)`);
    }
  });

  test('an unknown name is 400 invalid-request for a caller allowed every secret (AUTH_TOKEN)', () => {
    const error = refusal(() => secretFor({ name: 'default', secrets: 'all' }, TABLE, 'NO_SUCH', 'steps/1/send/0'));
    expect([error.code, error.status, error.message]).toEqual(['invalid-request', 400, 'steps/1/send/0 names the secret "NO_SUCH", which SECRETS does not hold']);
  });

  test('a hostile name in a request is shown quoted and cut, never raw', () => {
    const name = `X"\n${'y'.repeat(200)}`;
    const error = refusal(() => secretFor(OPS, TABLE, name, 'steps/0/send/0'));
    expect(error.message).toContain(JSON.stringify(`${name.slice(0, 64)}…`));
    expect(error.message).not.toContain('\n');
  });
});

describe('checkSecretDestinations(steps, target, addresses)', () => {
  test('passes when every secret may go to every address, over TLS where it asks for it', () => {
    expect(() => checkSecretDestinations(stepsSending('REDIS'), makeTarget('10.20.0.5', 6379), [ip('10.20.0.5')])).not.toThrow();
    expect(() => checkSecretDestinations(stepsSending('REDIS', { tls: false }), makeTarget('127.0.0.1', 6379), [ip('127.0.0.1')])).not.toThrow();
  });

  test('an address outside the secret\'s destinations is 403 secret-denied naming the address', () => {
    const error = refusal(() => checkSecretDestinations(stepsSending('REDIS'), makeTarget('attacker.example', 6379), [ip('203.0.113.9')]));
    expect([error.code, error.status]).toEqual(['secret-denied', 403]);
    expect(error.message).toBe('the secret "REDIS" may not be sent to attacker.example:6379 (resolved to 203.0.113.9): it is not one of the secret\'s destinations (SECRETS); nothing was sent');
  });

  test('every resolved address is checked: one outside the destinations refuses the name whole', () => {
    const error = refusal(() => checkSecretDestinations(stepsSending('REDIS'), makeTarget('10.20.0.5', 6379), [ip('10.20.0.5'), ip('203.0.113.9')]));
    expect(error.message).toContain('may not be sent to 203.0.113.9:6379');
  });

  test('the right address on another port is outside the destinations', () => {
    const error = refusal(() => checkSecretDestinations(stepsSending('REDIS'), makeTarget('10.20.0.5', 6380), [ip('10.20.0.5')]));
    expect(error.message).toContain('may not be sent to 10.20.0.5:6380');
  });

  test('a name destination matches the name asked, not another name that resolves to the same address', () => {
    expect(() => checkSecretDestinations(stepsSending('REDIS'), makeTarget('redis.internal', 6379), [ip('192.0.2.1')])).not.toThrow();
    expect(refusal(() => checkSecretDestinations(stepsSending('REDIS'), makeTarget('evil.internal', 6379), [ip('192.0.2.1')])).code).toBe('secret-denied');
  });

  test('by default TLS is required except to loopback; the step that would send it is named', () => {
    const error = refusal(() => checkSecretDestinations(stepsSending('REDIS', { tls: false, step: 2 }), makeTarget('10.20.0.5', 6379), [ip('10.20.0.5')]));
    expect(error.message).toBe('the secret "REDIS" requires TLS (the default for an address that is not loopback), and step 2 would send it to 10.20.0.5:6379 before TLS has started; nothing was sent');
  });

  test('TLS started by an earlier step (STARTTLS) counts; one started after the secret\'s step does not', () => {
    const message = new SecretMessage([TABLE.get('REDIS')!]);
    const starttlsBefore = [{ send: encoder.encode('STARTTLS\r\n') }, { tls: TLS, send: message }];
    expect(() => checkSecretDestinations(starttlsBefore, makeTarget('10.20.0.5', 6379), [ip('10.20.0.5')])).not.toThrow();
    const starttlsAfter = [{ send: message }, { tls: TLS, send: encoder.encode('x') }];
    expect(refusal(() => checkSecretDestinations(starttlsAfter, makeTarget('10.20.0.5', 6379), [ip('10.20.0.5')])).message).toContain('step 1 would send it');
  });

  test('require_tls true holds even to loopback; false never asks for TLS', () => {
    const loopbackSmtp: SecretTable = new Map([['SMTP', secret('SMTP', '127.0.0.1:587', true)]]);
    const error = refusal(() => checkSecretDestinations(stepsSending('SMTP', { tls: false, table: loopbackSmtp }), makeTarget('127.0.0.1', 587), [ip('127.0.0.1')]));
    expect(error.message).toContain('requires TLS (its require_tls)');
    expect(() => checkSecretDestinations(stepsSending('PLAIN', { tls: false }), makeTarget('10.20.0.9', 6379), [ip('10.20.0.9')])).not.toThrow();
  });

  test('an IPv4-mapped loopback address is loopback; an address of 127/8 only in the name is not', () => {
    const table: SecretTable = new Map([['REDIS', secret('REDIS', '127.0.0.1:6379,localhost.example:6379')]]);
    expect(() => checkSecretDestinations(stepsSending('REDIS', { tls: false, table }), makeTarget('[::ffff:127.0.0.1]', 6379), [ip('::ffff:127.0.0.1')])).not.toThrow();
    const error = refusal(() => checkSecretDestinations(stepsSending('REDIS', { tls: false, table }), makeTarget('localhost.example', 6379), [ip('192.0.2.5')]));
    expect(error.message).toContain('requires TLS');
  });

  test('the first refused secret decides, in step order; no message holds a value', () => {
    const steps = [
      { tls: TLS, send: new SecretMessage([TABLE.get('REDIS')!]) },
      { send: new SecretMessage([TABLE.get('SMTP')!]) },
    ];
    const error = refusal(() => checkSecretDestinations(steps, makeTarget('10.20.0.5', 6379), [ip('10.20.0.5')]));
    expect(error.message).toMatch(/^the secret "SMTP" may not be sent/);
    expect(error.message).not.toContain(VALUE);
  });
});

describe('SecretMessage', () => {
  test('puts bytes and secret values together in order, in an array of its own', () => {
    const redis = TABLE.get('REDIS')!;
    const message = new SecretMessage([encoder.encode('AUTH '), redis, encoder.encode('\r\n')]);
    expect(message.length).toBe(5 + redis.value.length + 2);
    expect(new TextDecoder().decode(message.assemble())).toBe(`AUTH ${VALUE}-REDIS\r\n`);
    // Wiping what was sent must never wipe the stored secret, even for a message that is the secret alone.
    const alone = new SecretMessage([redis]).assemble();
    alone.fill(0);
    expect(new TextDecoder().decode(redis.value)).toBe(`${VALUE}-REDIS`);
  });

  test('names its secrets once each, in order; secretsOf lists a dialogue\'s', () => {
    const [redis, smtp] = [TABLE.get('REDIS')!, TABLE.get('SMTP')!];
    const message = new SecretMessage([redis, encoder.encode(' '), smtp, redis]);
    expect(message.secrets.map((s) => s.name)).toEqual(['REDIS', 'SMTP']);
    const steps = [{ send: encoder.encode('x') }, { send: new SecretMessage([smtp]) }, { send: message }];
    expect(secretsOf(steps).map((s) => s.name)).toEqual(['SMTP', 'REDIS']);
  });

  test('shows no bytes when turned into text or JSON', () => {
    const redis = TABLE.get('REDIS')!;
    const message = new SecretMessage([encoder.encode('AUTH '), redis]);
    expect(JSON.stringify({ message })).toBe(`{"message":{"length":${5 + redis.value.length},"secrets":["REDIS"]}}`);
    expect(String(message)).toBe(`[a message of ${5 + redis.value.length} bytes holding the secrets REDIS]`);
  });
});
