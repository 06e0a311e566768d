import { describe, expect, test } from 'vitest';
import { formatIp, parseIpv4, parseIpv6 } from '../../src/net/ip.js';

describe('parseIpv4(text)', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['10.1.65535', '10.1.255.255'],
    ['1.2.3.4.', '1.2.3.4'],
    ['0', '0.0.0.0'],
  ])('%s is %s', (text, expected) => {
    const parsed = parseIpv4(text);
    expect(parsed && formatIp(parsed)).toBe(expected);
  });

  test.each(['1.2.3.999', '1.2.3.4.5', '4294967296', '09', '1.2.3.08', '256.1.1.1'])('%s is IPv4-shaped but invalid (null)', (text) => {
    expect(parseIpv4(text)).toBeNull();
  });

  test.each(['example.com', 'localhost', 'a1', '1.2.3.x', '1.2.3.0x1g', ''])('%s is a name (undefined)', (text) => {
    expect(parseIpv4(text)).toBeUndefined();
  });
});

describe('parseIpv6(text) and formatIp(address)', () => {
  test.each([
    ['::1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8::8A2E:370:7334', '2001:db8::8a2e:370:7334'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['fe80::1:2:3:4:5:6', 'fe80:0:1:2:3:4:5:6'],
  ])('%s → %s', (text, expected) => {
    const parsed = parseIpv6(text);
    expect(parsed && formatIp(parsed)).toBe(expected);
  });

  test.each([':::1', '1:2:3:4:5:6:7:8:9', '12345::', '::1%eth0', 'g::1', '1::2::3', '', '1:2:3:4:5:6:7'])('%s is not IPv6', (text) => {
    expect(parseIpv6(text)).toBeUndefined();
  });
});
