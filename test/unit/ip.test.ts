import { describe, expect, test } from 'vitest';
import { embeddedIpv4s, formatIp, parseIpv4, parseIpv6 } from '../../src/net/ip.js';

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

describe('embeddedIpv4s(address)', () => {
  const carried = (text: string, translatorPrefix?: number) => embeddedIpv4s(parseIpv6(text)!, translatorPrefix).map(({ address, form }) => `${formatIp(address)} as ${form}`);

  test.each([
    ['::ffff:1.2.3.4', ['1.2.3.4 as IPv4-mapped (::ffff:0:0/96)']],
    ['::1.2.3.4', ['1.2.3.4 as IPv4-compatible (::/96)']],
    ['64:ff9b::1.2.3.4', ['1.2.3.4 as NAT64 (64:ff9b::/96)']],
    ['2002:102:304::1', ['1.2.3.4 as 6to4 (2002::/16)']],
    // RFC 6052's /48 format: 1.2 in bits 48..63, the u octet (bits 64..71) zero, 3.4 in bits 72..87, a suffix after.
    ['64:ff9b:1:102:3:400::', ['1.2.3.4 as NAT64 local-use (64:ff9b:1::/48, read as a /48 translator prefix)']],
    ['64:ff9b:1:7f00:0:100:0:0', ['127.0.0.1 as NAT64 local-use (64:ff9b:1::/48, read as a /48 translator prefix)']],
    ['64:ff9b:1:c0a8:1:100:ab:cd', ['192.168.1.1 as NAT64 local-use (64:ff9b:1::/48, read as a /48 translator prefix)']],
    // Teredo (RFC 4380's example): server 65.54.227.120 in bits 32..63, client 192.0.2.45 as the last 32 bits inverted.
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', ['65.54.227.120 as its Teredo server (2001::/32)', '192.0.2.45 as its Teredo client (2001::/32)']],
    ['2001:0:a00:1:8000:0:80ff:fffe', ['10.0.0.1 as its Teredo server (2001::/32)', '127.0.0.1 as its Teredo client (2001::/32)']],
  ])('%s carries %j', (text, expected) => {
    expect(carried(text)).toEqual(expected);
  });

  // RFC 6052's other formats, for a translator on a longer prefix inside the /48 (RFC 8215 expects /64s and /96s).
  test.each([
    [96, '64:ff9b:1:0:ab::102:304', 96],
    [128, '64:ff9b:1:0:ab::102:304', 96],
    [64, '64:ff9b:1:ab:1:203:400:0', 64],
    [80, '64:ff9b:1:ab:1:203:400:0', 64],
    [56, '64:ff9b:1:ab01:2:304::', 56],
    [48, '64:ff9b:1:102:3:400::', 48],
    [0, '64:ff9b:1:102:3:400::', 48],
  ])('opened by a /%i entry, %s carries 1.2.3.4, read as a /%i translator prefix', (prefix, text, format) => {
    expect(carried(text, prefix)).toEqual([`1.2.3.4 as NAT64 local-use (64:ff9b:1::/48, read as a /${format} translator prefix)`]);
  });

  test.each(['::1', '::', '2001:db8::1', 'fe80::1', 'fec0::1', '64:ff9b:2::1', '64:ff9c::1', '2001:1::1', '2001:4860:4860::8888', '2003::1'])('%s carries none', (text) => {
    expect(carried(text)).toEqual([]);
  });
});
