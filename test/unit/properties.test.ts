// Property-based tests of input parsing, address normalisation and the destination policy (fast-check).

import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { type IpAddress, addressValue, formatIp, parseIpv4, parseIpv6 } from '../../src/net/ip.js';
import { parseEntries } from '../../src/settings/config.js';
import { BUILT_IN_DENIED, Policy } from '../../src/net/policy.js';
import { parseQuery } from '../../src/http/query.js';
import { makeTarget, parseHost, parsePort } from '../../src/net/target.js';
import { HOST_SCHEMA } from '../../src/api/exchange-schema.js';
import { serverNameFor } from '../../src/api/tls-options.js';

const RUNS = { numRuns: 5_000 };

/** Runs `fn`; anything thrown other than a ServiceError with a 4xx status is a bug. */
function onlyClientErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ServiceError) || error.status < 400 || error.status >= 500) throw error;
  }
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((val): IpAddress => ({ tag: 'ipv4', val }));
const ipv6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((val) => ({ tag: 'ipv6', val }) as IpAddress);

/** Every notation a resolver or URL parser accepts for an IPv4 address. */
function ipv4Notations(address: IpAddress & { tag: 'ipv4' }): string[] {
  const [a, b, c, d] = address.val;
  const n = ((a * 256 + b) * 256 + c) * 256 + d;
  return [
    `${a}.${b}.${c}.${d}`,
    String(n),
    `0x${n.toString(16)}`,
    `0${n.toString(8)}`,
    `${a}.${(b << 16) + (c << 8) + d}`,
    `${a}.${b}.${(c << 8) + d}`,
    `0x${a.toString(16)}.0x${b.toString(16)}.0x${c.toString(16)}.0x${d.toString(16)}`,
    `0${a.toString(8)}.0${b.toString(8)}.0${c.toString(8)}.0${d.toString(8)}`,
    `[::ffff:${a}.${b}.${c}.${d}]`,
    `::ffff:${((a << 8) + b).toString(16)}:${((c << 8) + d).toString(16)}`,
    `${a}.${b}.${c}.${d}.`,
  ];
}

/** An address inside a built-in denied range. */
const deniedAddress = fc.constantFrom(...BUILT_IN_DENIED).chain((range) =>
  (range.family === 'ipv4' ? ipv4 : ipv6).map((random) => {
    const width = range.family === 'ipv4' ? 32n : 128n;
    const hostBits = width - BigInt(range.prefix);
    const value = range.network | (addressValue(random) & ((1n << hostBits) - 1n));
    const parts = range.family === 'ipv4' ? 4 : 8;
    const size = range.family === 'ipv4' ? 8n : 16n;
    const val = Array.from({ length: parts }, (_, i) => Number((value >> (size * BigInt(parts - 1 - i))) & ((1n << size) - 1n)));
    return { tag: range.family, val } as IpAddress;
  }),
);

describe('parsers never fail with anything but a client error', () => {
  test('parseQuery(any string)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => onlyClientErrors(() => parseQuery(s))), RUNS);
  });
  test('parseQuery(percent-encoded garbage)', () => {
    const piece = fc.oneof(fc.constantFrom('%', '&', '=', '+', '%0', '%zz', '%FF', '%C3', '%E2%82', '%00', '%0D%0A'), fc.string());
    fc.assert(fc.property(fc.array(piece), (parts) => onlyClientErrors(() => parseQuery(parts.join('')))), RUNS);
  });
  test('parseHost and parsePort(any string)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        onlyClientErrors(() => parseHost(s));
        onlyClientErrors(() => parsePort(s));
      }),
      RUNS,
    );
  });
  test('parseHost(strings made of address characters)', () => {
    const chars = fc.string({ unit: fc.constantFrom(...'0123456789abcdefx.:[]%/'), maxLength: 50 });
    fc.assert(fc.property(chars, (s) => onlyClientErrors(() => parseHost(s))), RUNS);
  });
  test('an accepted host contains no byte that could break an HTTP request line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        try {
          expect(parseHost(s).host).toMatch(/^[a-z0-9_.:-]+$/);
        } catch (error) {
          if (!(error instanceof ServiceError)) throw error;
        }
      }),
      RUNS,
    );
  });
  test('parseEntries(any string) is either entries or config-invalid', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef.:[]/*,- '), maxLength: 60 }), (s) => {
        try {
          parseEntries('ALLOWED_TARGETS', s);
        } catch (error) {
          if (!(error instanceof ServiceError) || error.code !== 'config-invalid') throw error;
        }
      }),
      RUNS,
    );
  });
});

/** Whether the document (GET /openapi.json, the MCP tool) calls `text` a host: one of its patterns matches. */
const documentedHost = (text: string) => HOST_SCHEMA.anyOf.some((branch) => new RegExp(branch.pattern, 'u').test(text));
const accepts = (parse: () => unknown) => {
  try {
    parse();
    return true;
  } catch (error) {
    if (!(error instanceof ServiceError)) throw error;
    return false;
  }
};
const serverNameTarget = makeTarget('127.0.0.1', 443);

/** Text shaped like hosts: labels, numbers, IPv6 groups, brackets, and the characters that break them. */
const hostLike = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefxX.:[]%_-'), maxLength: 45 }),
  fc.array(fc.oneof(fc.constantFrom('0', '1a', '0x', '0x1f', '09', '255', '256', 'a', 'foo', '_x', 'a-b', '-a', 'a-', ''), fc.string({ unit: fc.constantFrom(...'abz09_-'), maxLength: 8 })), { minLength: 1, maxLength: 5 }).chain((labels) =>
    fc.constantFrom(labels.join('.'), `${labels.join('.')}.`),
  ),
  ipv6.chain((address) => {
    const groups = address.val as number[];
    return fc.constantFrom(
      formatIp(address),
      `[${formatIp(address)}]`,
      groups.map((g) => g.toString(16).padStart(4, '0').toUpperCase()).join(':'),
      `${groups.slice(0, 6).map((g) => g.toString(16)).join(':')}:${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`,
      `${formatIp(address)}:1`,
      `${formatIp(address)}::`,
    );
  }),
  ipv4.chain((address) => fc.constantFrom(...ipv4Notations(address as IpAddress & { tag: 'ipv4' }))),
);

describe('the documented host grammar and the parser agree', () => {
  test('every host the document shows, the parser takes, as a host and as a server name; and every server name the parser takes, the document shows', () => {
    fc.assert(
      fc.property(hostLike, (text) => {
        const documented = documentedHost(text);
        if (documented) expect(accepts(() => parseHost(text))).toBe(true);
        expect(accepts(() => serverNameFor(serverNameTarget, text, 'server_name'))).toBe(documented);
      }),
      RUNS,
    );
  });

  test('a host the parser takes but the document does not show is one of the URL standard\'s other IPv4 spellings', () => {
    fc.assert(
      fc.property(hostLike, (text) => {
        if (!accepts(() => parseHost(text)) || documentedHost(text)) return;
        expect(parseIpv4(text)).toBeTruthy();
        expect(text).not.toMatch(/^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/);
      }),
      RUNS,
    );
  });
});

describe('addresses round-trip', () => {
  test('every IPv4 address: formatIp → parseHost gives the same address', () => {
    fc.assert(fc.property(ipv4, (a) => {
      expect(parseHost(formatIp(a)).address).toEqual(a);
    }), RUNS);
  });
  test('every IPv6 address: formatIp → parse gives the same address, and formatting is canonical', () => {
    fc.assert(
      fc.property(ipv6, (a) => {
        const text = formatIp(a);
        expect(parseIpv6(text)).toEqual(a);
        expect(formatIp(parseIpv6(text.toUpperCase())!)).toBe(text);
      }),
      RUNS,
    );
  });
  test('every IPv4 notation of an address normalises to that address', () => {
    fc.assert(
      fc.property(ipv4, (a) => {
        for (const notation of ipv4Notations(a as IpAddress & { tag: 'ipv4' })) {
          expect(parseHost(notation).address, notation).toEqual(a);
        }
      }),
      RUNS,
    );
  });
  test('parseIpv4 never accepts a value above 2^32 - 1', () => {
    fc.assert(fc.property(fc.bigInt({ min: 2n ** 32n, max: 2n ** 64n }), (n) => {
      expect(parseIpv4(n.toString())).toBeNull();
    }), RUNS);
  });
});

describe('denied ranges never pass', () => {
  const open = new Policy(undefined, []);
  const broad = new Policy(parseEntries('ALLOWED_TARGETS', '0.0.0.0/0:*,[::/0]:*,example.com:*'), []);
  test('an address in a built-in denied range is refused in every notation, by the default policy and by 0.0.0.0/0', () => {
    fc.assert(
      fc.property(deniedAddress, fc.integer({ min: 1, max: 65535 }), (address, port) => {
        const notations = address.tag === 'ipv4' ? ipv4Notations(address as IpAddress & { tag: 'ipv4' }) : [`[${formatIp(address)}]`];
        for (const notation of notations) {
          const host = parseHost(notation);
          for (const policy of [open, broad]) {
            expect(() => policy.check(makeTarget(notation, port), [host.address!]), notation).toThrow(/not allowed/);
          }
        }
        // and behind a name that resolves to it, among public addresses
        expect(() => broad.check(makeTarget('example.com', port), [{ tag: 'ipv4', val: [93, 184, 215, 14] }, address])).toThrow(/not allowed/);
      }),
      RUNS,
    );
  });
  // Local-use NAT64 and Teredo are denied as such by default; opened, the IPv4 addresses they carry still decide.
  const tunnels = new Policy(parseEntries('ALLOWED_TARGETS', '0.0.0.0/0:*,[::/0]:*,[64:ff9b:1::/48]:*,[2001::/32]:*'), []);
  test('a denied IPv4 address carried in IPv6 (mapped, NAT64, 6to4, local-use NAT64, Teredo server or client) is refused', () => {
    const deniedV4 = deniedAddress.filter((a) => a.tag === 'ipv4') as fc.Arbitrary<IpAddress & { tag: 'ipv4' }>;
    fc.assert(
      fc.property(deniedV4, (a) => {
        const [w, x, y, z] = a.val;
        const hex = (n: number) => n.toString(16);
        const hi = (w << 8) + x;
        const lo = (y << 8) + z;
        const forms = [
          `::ffff:${hex(hi)}:${hex(lo)}`,
          `64:ff9b::${hex(hi)}:${hex(lo)}`,
          `2002:${hex(hi)}:${hex(lo)}::1`,
          `64:ff9b:1:${hex(hi)}:${hex(y)}:${hex(z << 8)}::`,
          `2001:0:${hex(hi)}:${hex(lo)}:8000:63bf:3fff:fdd2`,
          `2001:0:4136:e378:8000:63bf:${hex(hi ^ 0xffff)}:${hex(lo ^ 0xffff)}`,
        ];
        for (const text of forms) {
          const host = parseHost(`[${text}]`);
          // An IPv4-mapped address is the IPv4 address itself (parseHost), so no carrying is named for it.
          const refusal = text.startsWith('::ffff:') ? `${formatIp(a)} is in` : `it carries the IPv4 address ${formatIp(a)} as`;
          expect(() => tunnels.check(makeTarget(`[${text}]`, 80), [host.address!]), text).toThrow(refusal);
        }
      }),
      RUNS,
    );
  });
});
