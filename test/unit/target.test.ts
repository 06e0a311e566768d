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
    ['', 'host is empty'],
    ['exa mple.com', 'host "exa mple.com" is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address'],
    ['host:80', 'host "host:80" is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)'],
    ['a\r\nHost: b', 'host "a\\r\\nHost: b" is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)'],
    ['1::2::3', 'host "1::2::3" is not a valid IPv6 address'],
    ['[example.com]', 'host "[example.com]" is not a valid IPv6 address'],
    ['1.2.3.999', 'host "1.2.3.999" looks like an IPv4 address but is not a valid one'],
    ['foo.123', 'host "foo.123" looks like an IPv4 address but is not a valid one'],
    ['fe80::1%eth0', 'host "fe80::1%eth0" has an IPv6 zone id; zone ids are not supported, use a global address'],
  ])('%j is invalid-host: %s', (raw, message) => {
    expect(() => parseHost(raw)).toThrow(new ServiceError('invalid-host', message));
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
  ])('%j is invalid-host, naming the host as given', (raw) => {
    expect(codeOf(() => parseHost(raw))).toBe('invalid-host');
    expect(() => parseHost(raw)).toThrow(raw === '' ? 'host is empty' : `host ${JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw)} `);
  });
});

describe('parsePort(raw)', () => {
  test.each([['1', 1], ['80', 80], ['65535', 65535]])('%s → %i', (raw, port) => expect(parsePort(raw)).toBe(port));
  test.each(['', '0', '65536', '-1', '1e3', '0x50', '+80', '080', ' 80', '80 ', '8O', '99999999999999999999'])('%j is invalid-port, naming it and the form', (raw) => {
    expect(codeOf(() => parsePort(raw))).toBe('invalid-port');
    expect(() => parsePort(raw)).toThrow(`port ${JSON.stringify(raw.length > 20 ? `${raw.slice(0, 20)}…` : raw)} is not a port number: use a decimal number from 1 to 65535`);
  });
});

describe('formatTarget(target)', () => {
  test('brackets IPv6', () => expect(formatTarget(makeTarget('::1', 80))).toBe('[::1]:80'));
  test('leaves names and IPv4 bare', () => {
    expect(formatTarget(makeTarget('example.com', 443))).toBe('example.com:443');
    expect(formatTarget(makeTarget('10.0.0.1', 6379))).toBe('10.0.0.1:6379');
  });
});
