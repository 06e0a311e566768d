import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { embeddedIpv4, parseIpv6 } from '../../src/net/ip.js';
import { parseEntries } from '../../src/settings/config.js';
import { Policy, parseEntry } from '../../src/net/policy.js';
import { makeTarget, parseHost } from '../../src/net/target.js';

function verdict(policy: Policy, host: string, port: number, resolved?: string[]): string {
  const parsed = parseHost(host);
  const addresses = resolved ? resolved.map((r) => parseHost(r).address!) : [parsed.address!];
  try {
    policy.check(makeTarget(host, port), addresses);
    return 'allowed';
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'destination-denied') return `denied: ${error.message}`;
    throw error;
  }
}

const open = new Policy(undefined, []);
const policyOf = (allowed: string | undefined, denied = '') =>
  new Policy(allowed === undefined ? undefined : parseEntries('ALLOWED_TARGETS', allowed), parseEntries('DENIED_TARGETS', denied));

describe('Policy.check without ALLOWED_TARGETS (the component default)', () => {
  test.each([
    '0.0.0.1', '10.1.2.3', '100.64.0.1', '127.0.0.1', '127.255.255.254', '169.254.169.254', '172.16.0.1', '172.31.255.255',
    '192.0.0.1', '192.168.1.1', '198.18.0.1', '198.19.255.255', '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255',
    '[::]', '[::1]', '[fc00::1]', '[fd00:ec2::254]', '[fe80::1]', '[ff02::1]',
    '[::ffff:127.0.0.1]', '[::ffff:169.254.169.254]', '[64:ff9b::7f00:1]', '[64:ff9b::a9fe:a9fe]', '[2002:7f00:1::]', '[2002:c0a8:101::1]', '[::7f00:1]',
    '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '0x7f000001', '017700000001', '0xa9.0xfe.0xa9.0xfe', '0',
  ])('%s is denied', (host) => {
    expect(verdict(open, host, 80)).toMatch(/^denied: .*ALLOWED_TARGETS/);
  });

  test.each(['93.184.215.14', '1.1.1.1', '100.63.255.255', '100.128.0.0', '172.32.0.1', '192.0.2.1', '198.20.0.1', '223.255.255.255', '[2606:4700::1111]', '[64:ff9b::101:101]', '[2002:101:101::]'])(
    '%s is allowed',
    (host) => {
      expect(verdict(open, host, 443)).toBe('allowed');
    },
  );

  test('a name is denied if any address it resolves to is denied', () => {
    expect(verdict(open, 'rebind.example', 80, ['93.184.215.14', '127.0.0.1'])).toMatch(/rebind\.example:80 \(resolved to 127\.0\.0\.1\)/);
    expect(verdict(open, 'fine.example', 80, ['93.184.215.14', '1.1.1.1'])).toBe('allowed');
  });

  test('the message names the range and the setting that would allow it', () => {
    expect(verdict(open, '169.254.169.254', 80)).toContain('169.254.0.0/16 (link-local, cloud metadata)');
    expect(verdict(open, '169.254.169.254', 80)).toContain('add "169.254.169.254:80" or "169.254.0.0/16:*" to ALLOWED_TARGETS');
    expect(verdict(open, '[::ffff:127.0.0.1]', 80)).toContain('127.0.0.1:80 is not allowed');
  });
});

describe('Policy.check with ALLOWED_TARGETS and DENIED_TARGETS', () => {
  test('only listed destinations are reachable when ALLOWED_TARGETS is set', () => {
    const policy = policyOf('127.0.0.1:*,10.1.2.0/24:6379,example.com:80');
    expect(verdict(policy, '127.0.0.1', 9)).toBe('allowed');
    expect(verdict(policy, '10.1.2.77', 6379)).toBe('allowed');
    expect(verdict(policy, '10.1.2.77', 6380)).toMatch(/denied by default/);
    expect(verdict(policy, '10.1.3.1', 6379)).toMatch(/denied by default/);
    expect(verdict(policy, 'example.com', 80, ['93.184.215.14'])).toBe('allowed');
    expect(verdict(policy, 'example.com', 443, ['93.184.215.14'])).toMatch(/add "example.com:443" or "93.184.215.14:443"/);
    expect(verdict(policy, '1.1.1.1', 80)).toMatch(/ALLOWED_TARGETS does not include it/);
  });

  test('a name entry does not open a denied address it resolves to', () => {
    expect(verdict(policyOf('evil.example:80'), 'evil.example', 80, ['127.0.0.1'])).toMatch(/denied by default/);
  });

  test('a denied range opens only to an entry at least as specific', () => {
    expect(verdict(policyOf('0.0.0.0/0:*'), '10.0.0.1', 80)).toMatch(/denied by default/);
    expect(verdict(policyOf('0.0.0.0/0:*'), '8.8.8.8', 53)).toBe('allowed');
    expect(verdict(policyOf('10.0.0.0/8:*'), '10.0.0.1', 80)).toBe('allowed');
    expect(verdict(policyOf('10.0.0.0/7:*'), '10.0.0.1', 80)).toMatch(/denied by default/);
  });

  test('DENIED_TARGETS adds entries, and wins over a broader allow entry', () => {
    const policy = policyOf('10.0.0.0/8:*', '10.0.0.5:*,blocked.example:*,8.8.8.0/24:53');
    expect(verdict(policy, '10.0.0.5', 80)).toMatch(/DENIED_TARGETS entry "10.0.0.5:\*"/);
    expect(verdict(policy, '10.0.0.6', 80)).toBe('allowed');
    expect(verdict(policyOf(undefined, 'blocked.example:*'), 'blocked.example', 443, ['1.1.1.1'])).toMatch(/DENIED_TARGETS entry "blocked.example:\*"/);
    expect(verdict(policyOf(undefined, '8.8.8.0/24:53'), '8.8.8.8', 53)).toMatch(/DENIED_TARGETS/);
    expect(verdict(policyOf(undefined, '8.8.8.0/24:53'), '8.8.8.8', 443)).toBe('allowed');
  });

  test('IPv6 entries are bracketed, with optional prefix', () => {
    const policy = policyOf('[::1]:*,[fd00::/8]:443');
    expect(verdict(policy, '[::1]', 5)).toBe('allowed');
    expect(verdict(policy, '[fd12::1]', 443)).toBe('allowed');
    expect(verdict(policy, '[fd12::1]', 80)).toMatch(/denied by default/);
  });
});

describe('parseEntry(text)', () => {
  test.each(['127.0.0.1:*', '10.0.0.0/8:5432', '[::1]:80', '[fc00::/7]:*', 'example.com:443', 'my_host.internal:*', '0.0.0.0/0:*', '[::/0]:*'])('%s parses', (text) => {
    expect(parseEntry(text)).toBeDefined();
  });
  test.each(['10.0.0.0/99:80', '10.0.0.0/8', '10.0.0.0/8:0', '10.0.0.0/8:65536', '::1:80', '[::1]', '[10.0.0.1]:80', 'a b:80', ':80', '1.2.3:80', '10.0.0.0/08:80', 'exa*mple.com:80', '[fe80::1%eth0]:80', '0x7f.1:80', '127.1:80', '2130706433:80', '[1.2.3.4]:80', '1.2.3.4:'])(
    '%s is malformed',
    (text) => {
      expect(parseEntry(text)).toBeUndefined();
    },
  );
  test('a malformed list is config-invalid naming the variable and the expected form', () => {
    try {
      parseEntries('ALLOWED_TARGETS', '127.0.0.1:*,10.0.0.0/99:80');
      expect.unreachable();
    } catch (error) {
      expect((error as ServiceError).code).toBe('config-invalid');
      expect((error as ServiceError).message).toContain('ALLOWED_TARGETS');
      expect((error as ServiceError).message).toContain('"10.0.0.0/99:80"');
      expect((error as ServiceError).message).toContain('CIDR:PORT');
    }
  });
});

describe('embeddedIpv4(address)', () => {
  test.each([
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['64:ff9b::1.2.3.4', '1.2.3.4'],
    ['2002:102:304::1', '1.2.3.4'],
    ['::1.2.3.4', '1.2.3.4'],
  ])('%s carries %s', (text, expected) => {
    const carried = embeddedIpv4(parseIpv6(text)!);
    expect(carried?.tag === 'ipv4' ? carried.val.join('.') : undefined).toBe(expected);
  });
  test.each(['::1', '::', '2001:db8::1', 'fe80::1'])('%s carries none', (text) => expect(embeddedIpv4(parseIpv6(text)!)).toBeUndefined());
});
