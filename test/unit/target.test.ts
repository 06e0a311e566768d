import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { formatTarget, makeTarget, parseHost, parsePort } from '../../src/net/target.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof ServiceError ? error.code : 'not a ServiceError';
  }
  return undefined;
}

describe('parseHost(raw)', () => {
  test.each([
    ['example.com', 'example.com', false],
    ['Example.COM.', 'example.com', false],
    ['my_service.internal', 'my_service.internal', false],
    ['127.0.0.1', '127.0.0.1', true],
    ['0x7f.1', '127.0.0.1', true],
    ['[::1]', '::1', true],
    ['::1', '::1', true],
    ['[2001:DB8::1]', '2001:db8::1', true],
  ])('%s → %s', (raw, host, isIp) => {
    const parsed = parseHost(raw);
    expect(parsed.host).toBe(host);
    expect(parsed.address !== undefined).toBe(isIp);
  });

  test.each([
    '',
    'exa mple.com',
    'a\r\nb',
    'a\0',
    'a/b',
    'user@host',
    'host:80',
    '[::1',
    '[example.com]',
    '1.2.3.999',
    'fe80::1%eth0',
    '[fe80::1%25eth0]',
    '-bad.com',
    'a..b',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
  ])('%j is invalid-host', (raw) => {
    expect(codeOf(() => parseHost(raw))).toBe('invalid-host');
  });
});

describe('parsePort(raw)', () => {
  test.each([['1', 1], ['80', 80], ['65535', 65535]])('%s → %i', (raw, port) => expect(parsePort(raw)).toBe(port));
  test.each(['', '0', '65536', '-1', '1e3', '0x50', '+80', '080', ' 80', '80 ', '8O', '99999999999999999999'])('%j is invalid-port', (raw) => {
    expect(codeOf(() => parsePort(raw))).toBe('invalid-port');
  });
});

describe('formatTarget(target)', () => {
  test('brackets IPv6', () => expect(formatTarget(makeTarget('::1', 80))).toBe('[::1]:80'));
  test('leaves names and IPv4 bare', () => {
    expect(formatTarget(makeTarget('example.com', 443))).toBe('example.com:443');
    expect(formatTarget(makeTarget('10.0.0.1', 6379))).toBe('10.0.0.1:6379');
  });
});
