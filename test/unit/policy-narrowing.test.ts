// narrowPolicy: a caller's allowed targets only ever narrow the service's policy.

import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { parseIpv4, parseIpv6, type IpAddress } from '../../src/net/ip.js';
import { Policy, listIncludes, narrowPolicy } from '../../src/net/policy.js';
import { parseEntries } from '../../src/settings/config.js';
import { makeTarget } from '../../src/net/target.js';

const ip = (text: string): IpAddress => (text.includes(':') ? parseIpv6(text) : parseIpv4(text))!;
const entries = (text: string) => parseEntries('ALLOWED_TARGETS', text);
const service = new Policy(entries('10.20.0.0/16:*,127.0.0.1:*,0.0.0.0/0:*'), entries('10.20.9.0/24:*'));
const bot = narrowPolicy(service, 'ops-bot', entries('10.20.0.0/16:6379,127.0.0.1:*,redis.internal:6379,10.20.9.1:6379,169.254.169.254:80'));

function verdict(check: () => void): string {
  try {
    check();
    return 'allowed';
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return `${error.code}: ${error.message}`;
  }
}
const asked = (host: string, port: number, address: string) => verdict(() => bot.check(makeTarget(host, port), [ip(address)]));

describe('narrowPolicy(service, callerName, allowed)', () => {
  test('an address both allow is reachable', () => {
    expect(asked('10.20.0.5', 6379, '10.20.0.5')).toBe('allowed');
    expect(asked('redis.internal', 6379, '10.20.1.1')).toBe('allowed');
  });

  test('an address the service allows and the caller does not is refused, naming the caller', () => {
    expect(asked('10.20.0.5', 22, '10.20.0.5')).toBe(
      'destination-denied: 10.20.0.5:22 is not allowed: it is outside caller "ops-bot"\'s allowed targets (its allowed_targets in CALLERS); the operator can add "10.20.0.5:22" there',
    );
    expect(asked('93.184.215.14', 80, '93.184.215.14')).toMatch(/outside caller "ops-bot"'s allowed targets/);
  });

  test('a caller entry never opens what the service denies: the service\'s own refusal is given', () => {
    expect(asked('10.20.9.1', 6379, '10.20.9.1')).toBe(
      'destination-denied: 10.20.9.1:6379 is not allowed: DENIED_TARGETS entry "10.20.9.0/24:*" denies it; remove that entry, or allow the address more specifically in ALLOWED_TARGETS',
    );
    expect(asked('169.254.169.254', 80, '169.254.169.254')).toMatch(/169\.254\.0\.0\/16 \(link-local, cloud metadata\), denied by default/);
  });

  test('outside its own list, a caller learns nothing of the service\'s settings', () => {
    const message = asked('10.20.9.2', 22, '10.20.9.2');
    expect(message).toMatch(/outside caller "ops-bot"'s allowed targets/);
    expect(message).not.toContain('DENIED_TARGETS');
  });

  test('a name the caller allows does not open another name that resolves to the same address', () => {
    expect(asked('other.internal', 6379, '10.20.1.1')).toBe('allowed'); // 10.20.0.0/16:6379 holds the address itself
    expect(asked('redis.internal', 6380, '10.20.1.1')).toMatch(/outside caller/);
  });

  test('every resolved address must pass: one outside the caller\'s list refuses the request', () => {
    expect(verdict(() => bot.check(makeTarget('redis.internal', 6379), [ip('10.20.0.5'), ip('8.8.8.8')]))).toBe('allowed');
    const narrow = narrowPolicy(service, 'tiny', entries('10.20.0.5:6379'));
    expect(verdict(() => narrow.check(makeTarget('redis.internal', 6379), [ip('10.20.0.5'), ip('10.20.0.6')]))).toMatch(/^destination-denied: redis\.internal:6379 \(resolved to 10\.20\.0\.6\) is not allowed: it is outside caller "tiny"/);
  });

  test('an IPv4-mapped address is the IPv4 address it maps, for the caller\'s list too', () => {
    expect(asked('[::ffff:10.20.0.5]', 6379, '::ffff:10.20.0.5')).toBe('allowed');
  });

  test('without a list of its own (AUTH_TOKEN, no authentication), the caller has the service\'s policy itself', () => {
    expect(narrowPolicy(service, 'default', undefined)).toBe(service);
  });
});

describe('listIncludes(entries, target, address)', () => {
  test.each([
    ['10.0.0.0/8:*', '10.1.2.3', 22, true],
    ['10.0.0.0/8:6379', '10.1.2.3', 22, false],
    ['[::1]:*', '::1', 9, true],
    ['example.com:443', '93.184.215.14', 443, false],
  ])('%s includes %s:%s → %s', (list, address, port, included) => {
    expect(listIncludes(entries(list), makeTarget(address.includes(':') ? `[${address}]` : address, port), ip(address))).toBe(included);
  });
});
