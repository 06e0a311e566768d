import { describe, expect, test } from 'vitest';
import { verdict } from '../support/policy-verdict.js';
import { ServiceError } from '../../src/core/errors.js';
import { parseEntries } from '../../src/settings/config.js';
import { Policy, parseEntry } from '../../src/net/policy.js';


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

/** The class a refusal names (the note of the built-in range, in parentheses), or `allowed`, or the configured entry that denies. */
function classOf(policy: Policy, host: string, port: number, resolved?: string[]): string {
  const answer = verdict(policy, host, port, resolved);
  if (answer === 'allowed') return answer;
  const configured = /DENIED_TARGETS entry "([^"]+)"/.exec(answer);
  if (configured) return `DENIED_TARGETS ${configured[1]}`;
  const builtIn = / is in \S+ \((.+?)\), denied by default/.exec(answer);
  return builtIn ? builtIn[1]! : answer;
}

describe('the classes denied by default, and what they carry', () => {
  // Everything on the internet allowed: the built-in classes must hold even then, the dangerous case.
  const internet = policyOf('0.0.0.0/0:*,[::/0]:*');

  test.each([
    // RFC 8215 local-use NAT64: a translator of the operator's, so denied whatever it carries.
    ['[64:ff9b:1::1]', '64:ff9b:1::/48', 'NAT64 local-use'],
    ['[64:ff9b:1:c000:2:100::]', '64:ff9b:1::/48', 'NAT64 local-use'], // carries 192.0.2.1
    ['[64:ff9b:1:ffff:ffff:ffff:ffff:ffff]', '64:ff9b:1::/48', 'NAT64 local-use'],
    // Teredo (RFC 4380): a tunnel to whatever IPv4 address its client has.
    ['[2001::1]', '2001::/32', 'Teredo'],
    ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', '2001::/32', 'Teredo'],
    ['[2001:0:ffff:ffff:ffff:ffff:ffff:ffff]', '2001::/32', 'Teredo'],
    // Site-local (RFC 3879 deprecated it; a stack that still routes it reaches the site's own network).
    ['[fec0::1]', 'fec0::/10', 'site-local (deprecated)'],
    ['[feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]', 'fec0::/10', 'site-local (deprecated)'],
  ])('%s is in %s, denied as %s, also with the internet allowed', (host, range, expected) => {
    expect(classOf(open, host, 443)).toBe(expected);
    expect(classOf(internet, host, 443)).toBe(expected);
    expect(verdict(internet, host, 443)).toContain(`to allow it, add "${host}:443" or "[${range}]:*" to ALLOWED_TARGETS`);
  });

  test.each(['[64:ff9b:2::1]', '[64:ff9b:0:1::1]', '[2001:1::1]', '[2001:4860:4860::8888]', '[febf:ffff::1]'])('%s, just outside those classes, is not in them', (host) => {
    expect(classOf(internet, host, 443)).not.toMatch(/NAT64 local-use|Teredo|site-local/);
  });

  test('where an entry opens local-use NAT64, the IPv4 address it carries (RFC 6052, /48 format) is still checked', () => {
    const opened = policyOf('0.0.0.0/0:*,[::/0]:*,[64:ff9b:1::/48]:*');
    expect(verdict(opened, '[64:ff9b:1:c000:2:100::]', 443)).toBe('allowed');
    expect(verdict(opened, '[64:ff9b:1:808:8:800::]', 443)).toBe('allowed');
    expect(verdict(opened, '[64:ff9b:1:7f00:0:100::]', 443)).toContain(
      '127.0.0.1 is in 127.0.0.0/8 (loopback), denied by default (it carries the IPv4 address 127.0.0.1 as NAT64 local-use (64:ff9b:1::/48, read as a /48 translator prefix))',
    );
    expect(classOf(opened, '[64:ff9b:1:a9fe:a9:fe00::]', 80)).toBe('link-local, cloud metadata');
    expect(classOf(opened, '[64:ff9b:1:a00:0:100::]', 80)).toBe('private network');
  });

  test('an entry that opens a translator on a longer prefix inside 64:ff9b:1::/48 says where the IPv4 address is (RFC 6052)', () => {
    const opened = policyOf('0.0.0.0/0:*,[::/0]:*,[64:ff9b:1:0:ab::/96]:*,[64:ff9b:1:cd::/64]:*');
    expect(verdict(opened, '[64:ff9b:1:0:ab::808:808]', 443)).toBe('allowed');
    expect(verdict(opened, '[64:ff9b:1:0:ab::a00:1]', 443)).toContain('(it carries the IPv4 address 10.0.0.1 as NAT64 local-use (64:ff9b:1::/48, read as a /96 translator prefix))');
    expect(verdict(opened, '[64:ff9b:1:cd:8:808:800:0]', 443)).toBe('allowed');
    expect(verdict(opened, '[64:ff9b:1:cd:7f:0:100:0]', 443)).toContain('(it carries the IPv4 address 127.0.0.1 as NAT64 local-use (64:ff9b:1::/48, read as a /64 translator prefix))');
    // Outside the opened translators, the rest of the /48 stays denied as a class.
    expect(classOf(opened, '[64:ff9b:1:ef::808:808]', 443)).toBe('NAT64 local-use');
  });

  test('where an entry opens Teredo, both IPv4 addresses it carries are checked: its server and its client', () => {
    const opened = policyOf('0.0.0.0/0:*,[::/0]:*,[2001::/32]:*');
    expect(verdict(opened, '[2001:0:4136:e378:8000:63bf:3fff:fdd2]', 443)).toBe('allowed');
    expect(verdict(opened, '[2001:0:a00:1:8000:63bf:3fff:fdd2]', 443)).toContain('10.0.0.1 is in 10.0.0.0/8 (private network), denied by default (it carries the IPv4 address 10.0.0.1 as its Teredo server (2001::/32))');
    expect(verdict(opened, '[2001:0:4136:e378:8000:63bf:80ff:fffe]', 443)).toContain('(it carries the IPv4 address 127.0.0.1 as its Teredo client (2001::/32))');
    expect(classOf(opened, '[2001:0:4136:e378:8000:63bf:5601:5601]', 80)).toBe('link-local, cloud metadata');
  });

  test('the IPv4 address NAT64, 6to4 and IPv4-compatible forms carry is named with the form', () => {
    expect(verdict(open, '[64:ff9b::a00:1]', 80)).toContain('(it carries the IPv4 address 10.0.0.1 as NAT64 (64:ff9b::/96))');
    expect(verdict(open, '[2002:a00:1::1]', 80)).toContain('(it carries the IPv4 address 10.0.0.1 as 6to4 (2002::/16))');
    expect(verdict(open, '[::a00:1]', 80)).toContain('(it carries the IPv4 address 10.0.0.1 as IPv4-compatible (::/96))');
  });
});

/**
 * Stripe Smokescreen's classifyAddr table (pkg/smokescreen/smokescreen_test.go, TestClassifyAddr, at a3294a6),
 * under the equivalent settings: its allow ranges and address as ALLOWED_TARGETS beside the whole internet (it
 * allows what no rule names), its deny range and address as DENIED_TARGETS. Where this policy decides otherwise
 * on purpose, the line says why. Its self-connection cases are the local host's own listening address, not a
 * class of addresses (the host refuses those); its UnsafeAllowPrivateRanges table has no equivalent here.
 */
describe("Smokescreen's classifyAddr cases", () => {
  const smokescreen = policyOf('0.0.0.0/0:*,[::/0]:*,8.8.9.0/24:*,10.0.1.0/24:*,172.16.1.0/24:*,192.168.1.0/24:*,127.0.1.0/24:*,10.0.0.1:321', '1.1.1.1/32:*,8.8.8.8:321');
  test.each([
    ['8.8.8.8', 1, 'allowed'],
    ['8.8.9.8', 1, 'allowed'],
    ['10.0.0.1', 1, 'private network'],
    ['10.0.0.1', 321, 'allowed'],
    ['10.0.1.1', 1, 'allowed'],
    ['172.16.0.1', 1, 'private network'],
    ['172.16.1.1', 1, 'allowed'],
    ['192.168.0.1', 1, 'private network'],
    ['192.168.1.1', 1, 'allowed'],
    ['100.64.0.1', 1, 'carrier-grade NAT'],
    ['100.64.0.100', 1, 'carrier-grade NAT'],
    ['100.127.255.254', 1, 'carrier-grade NAT'],
    ['100.63.255.254', 1, 'allowed'],
    ['100.128.0.1', 1, 'allowed'],
    ['8.8.8.8', 321, 'DENIED_TARGETS 8.8.8.8:321'],
    ['1.1.1.1', 1, 'DENIED_TARGETS 1.1.1.1/32:*'],
    ['127.0.0.1', 1, 'loopback'],
    ['127.255.255.255', 1, 'loopback'],
    ['[::1]', 1, 'loopback'],
    ['127.0.1.1', 1, 'allowed'],
    ['169.254.169.254', 1, 'link-local, cloud metadata'],
    ['255.255.255.255', 1, 'broadcast'],
    ['[ff02:0:0:0:0:0:0:2]', 1, 'multicast'],
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16): Smokescreen denies every one; here the IPv4 address each carries
    // decides, since NAT64 is how an IPv6-only network reaches the IPv4 internet (DNS64 answers with these).
    ['[64:ff9b::ac1c:5]', 1, 'private network'], // 172.28.0.5
    ['[64:ff9b::c000:201]', 1, 'allowed'], // 192.0.2.1, a documentation address, not denied here
    ['[64:ff9b::a00:1]', 1, 'private network'], // 10.0.0.1
    ['[64:ff9b::808:808]', 1, 'allowed'], // 8.8.8.8, public
    ['[64:ff9b::ffff:ffff]', 1, 'broadcast'], // 255.255.255.255
    ['[2002:c000:201::1]', 1, 'allowed'], // 192.0.2.1
    ['[2002:a00:1::1]', 1, 'private network'], // 10.0.0.1
    ['[2002:808:808::1]', 1, 'allowed'], // 8.8.8.8
    ['[2001:0:4136:e378:8000:63bf:3fff:fdd2]', 1, 'Teredo'],
    ['[2001:0:1234:5678:9abc:def0:1234:5678]', 1, 'Teredo'],
    ['[2001:4860:4860::8888]', 1, 'allowed'],
    ['[2606:4700:4700::1111]', 1, 'allowed'],
    ['[64:ff9c::1]', 1, 'allowed'],
    ['127.0.0.1', 8080, 'loopback'],
    ['8.8.8.8', 4750, 'allowed'],
  ] as const)('%s port %i: %s', (host, port, expected) => {
    expect(classOf(smokescreen, host, port)).toBe(expected);
  });
});

/**
 * request-filtering-agent's cases (test/request-filtering-agent.test.ts, at cc0f9fc): the addresses and spellings
 * it refuses by default, and its allow and deny lists written as ALLOWED_TARGETS and DENIED_TARGETS. Names are
 * given the address they resolve to (127.0.0.1.nip.io answers 127.0.0.1); its redirect case has no equivalent
 * (this service follows no redirects).
 */
describe("request-filtering-agent's cases", () => {
  test.each([
    ['0.0.0.0', '"this" network'],
    ['[::]', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['[0:0:0:0:0:0:0:1]', 'loopback'],
    ['[0:0:0:0:0:ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['127.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['0177.00.00.01', 'loopback'],
    ['0177.00.01', 'loopback'],
    ['0177.01', 'loopback'],
    ['017700000001', 'loopback'],
    ['0x7f.0x0.0x0.0x1', 'loopback'],
    ['0x7f.0x0.0x1', 'loopback'],
    ['0x7f.0x1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['169.254.169.254', 'link-local, cloud metadata'],
  ])('%s is denied by default as %s', (host, expected) => {
    expect(classOf(open, host, 12456)).toBe(expected);
  });

  test.each([
    ['127.0.0.1.nip.io', '127.0.0.1', 'loopback'],
    ['localhost', '127.0.0.1', 'loopback'],
    ['localhost', '::1', 'loopback'],
    ['169.254.169.254.nip.io', '169.254.169.254', 'link-local, cloud metadata'],
  ])('%s resolving to %s is denied by default as %s', (host, resolved, expected) => {
    expect(classOf(open, host, 80, [resolved])).toBe(expected);
  });

  test('an allow list of loopback addresses or its range opens them and nothing else', () => {
    for (const allowed of ['127.0.0.1:*,[::1]:*', '127.0.0.0/8:*,[::1]:*']) {
      const policy = policyOf(allowed);
      expect(classOf(policy, '127.0.0.1', 12456)).toBe('allowed');
      expect(classOf(policy, 'localhost', 12456, ['127.0.0.1'])).toBe('allowed');
      expect(classOf(policy, '169.254.169.254', 12456)).toBe('link-local, cloud metadata');
    }
  });

  test('a deny list names the range it denies', () => {
    const policy = policyOf(undefined, '127.0.0.0/8:*');
    expect(classOf(policy, '127.0.0.1', 12456)).toBe('DENIED_TARGETS 127.0.0.0/8:*');
    expect(classOf(policy, '127.0.0.2', 12456)).toBe('DENIED_TARGETS 127.0.0.0/8:*');
  });
});
