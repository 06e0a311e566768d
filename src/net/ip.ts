// IP address literals: parsing every notation a host string may use, and one canonical text form.

import type { IpAddress, Ipv4Address, Ipv6Address } from 'wasi:sockets/network@0.2.12';

/** An IP address: `wasi:sockets/network.ip-address` itself (the WIT-generated type), so it crosses to the socket module as is. */
export type { IpAddress };

/** An address and a port: what a TCP connect goes to. */
export interface SocketAddress {
  address: IpAddress;
  port: number;
}

/**
 * Parses an IPv4 literal the way URL parsers and `inet_aton` do, so that every spelling a resolver
 * would accept (`127.0.0.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`) is seen for the address it is.
 * Returns `undefined` when the text is not IPv4-shaped at all (a host name), and `null` when it is
 * number-shaped but invalid (`1.2.3.999`): such text must not be handed to a resolver either.
 */
export function parseIpv4(text: string): IpAddress | undefined | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  const last = parts[parts.length - 1] ?? '';
  // Like the URL standard: text whose last label is numeric is an IPv4 address or invalid, never a name.
  if (!/^[0-9]+$/.test(last) && parseIpv4Number(last) === undefined) return undefined;
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Number(part);
    if (n === undefined) return null;
    numbers.push(n);
  }
  const head = numbers.slice(0, -1);
  const tail = numbers[numbers.length - 1] ?? 0;
  if (head.some((n) => n > 255)) return null;
  if (tail >= 256 ** (5 - numbers.length)) return null;
  let value = tail;
  head.forEach((n, i) => {
    value += n * 256 ** (3 - i);
  });
  return {
    tag: 'ipv4',
    val: [Math.floor(value / 2 ** 24) % 256, Math.floor(value / 2 ** 16) % 256, Math.floor(value / 2 ** 8) % 256, value % 256],
  };
}

function parseIpv4Number(part: string): number | undefined {
  let digits = part;
  let radix = 10;
  if (/^0[xX]/.test(digits)) {
    digits = digits.slice(2);
    radix = 16;
    if (digits === '') return 0;
  } else if (digits.length > 1 && digits.startsWith('0')) {
    digits = digits.slice(1);
    radix = 8;
  }
  const pattern = radix === 16 ? /^[0-9a-fA-F]+$/ : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!pattern.test(digits)) return undefined;
  // Anything past 2^32 is invalid anyway; cap the length so huge inputs stay cheap and exact.
  if (digits.replace(/^0+/, '').length > 12) return 2 ** 40;
  return parseInt(digits, radix);
}

/**
 * Parses an IPv6 literal without brackets: `::1`, `2001:db8::8a2e:370:7334`, `::ffff:192.0.2.1`.
 * Zone ids (`fe80::1%eth0`) are not accepted here: a caller decides what to do with them.
 */
export function parseIpv6(text: string): IpAddress | undefined {
  if (text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseIpv6Groups(halves[0] ?? '', halves.length === 1);
  const tail = halves.length === 2 ? parseIpv6Groups(halves[1] ?? '', true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return { tag: 'ipv6', val: groups as Ipv6Address };
}

function parseIpv6Groups(text: string, mayEndInIpv4: boolean): number[] | undefined {
  if (text === '') return [];
  const pieces = text.split(':');
  const groups: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (mayEndInIpv4 && i === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseDottedDecimal(piece);
      if (v4 === undefined) return undefined;
      groups.push(v4[0] * 256 + v4[1], v4[2] * 256 + v4[3]);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      groups.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return groups;
}

/** Strict dotted-decimal IPv4, as inside an IPv6 literal or a setting (no hex, no octal, no short forms). */
function parseDottedDecimal(text: string): Ipv4Address | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : 256));
  if (bytes.some((b) => b > 255)) return undefined;
  return bytes as Ipv4Address;
}

/**
 * `[X]` is X in brackets. Brackets are how IPv6 is written where a `:PORT` may follow (its last group would
 * read as one); they hold IPv6 only. The one place that takes them off.
 */
export function unbracket(text: string): { inner: string; bracketed: boolean } {
  const bracketed = text.length >= 2 && text.startsWith('[') && text.endsWith(']');
  return { inner: bracketed ? text.slice(1, -1) : text, bracketed };
}

/**
 * An address in plain notation only — strict dotted decimal or IPv6 — as settings and DNS records write it
 * (no hex, octal or short IPv4 forms). `bracketed`: the text stood in brackets, which hold IPv6 only.
 */
export function parsePlainIp(text: string, bracketed = false): IpAddress | undefined {
  const v4 = parseDottedDecimal(text);
  if (v4) return bracketed ? undefined : { tag: 'ipv4', val: v4 };
  return parseIpv6(text);
}

/** An address written alone in a setting, where no port can follow: `1.2.3.4`, `::1` or `[::1]` (not `[1.2.3.4]`). */
export function parseSettingIp(text: string): IpAddress | undefined {
  const { inner, bracketed } = unbracket(text);
  return parsePlainIp(inner, bracketed);
}

/** An address as an unsigned integer of its family's width. */
export function addressValue(address: IpAddress): bigint {
  const [width, parts] = address.tag === 'ipv4' ? [8n, address.val] : [16n, address.val];
  return (parts as number[]).reduce((acc, part) => (acc << width) | BigInt(part), 0n);
}

/** The address of a family whose unsigned integer value is `value`: the inverse of `addressValue`. */
export function addressFromValue(family: IpAddress['tag'], value: bigint): IpAddress {
  if (family === 'ipv4') return { tag: 'ipv4', val: [24n, 16n, 8n, 0n].map((s) => Number((value >> s) & 0xffn)) as Ipv4Address };
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => Number((value >> s) & 0xffffn));
  return { tag: 'ipv6', val: groups as Ipv6Address };
}

/** An IPv4 address an IPv6 address carries, and the form that carries it (for messages: "as NAT64 (64:ff9b::/96)"). */
export interface EmbeddedIpv4 {
  address: IpAddress;
  form: string;
}

const ipv4At = (value: bigint, shift: bigint) => addressFromValue('ipv4', (value >> shift) & 0xffffffffn);

/** The prefix lengths RFC 6052 defines formats for that fit inside 64:ff9b:1::/48, longest first. */
const LOCAL_USE_TRANSLATOR_PREFIXES = [96, 64, 56, 48] as const;

/**
 * The IPv4 addresses an IPv6 address carries, for the forms that route to IPv4 (or make this machine send to
 * IPv4): IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96), NAT64 (64:ff9b::/96, RFC 6052), local-use NAT64
 * (64:ff9b:1::/48, RFC 8215), 6to4 (2002::/16, RFC 3056) and Teredo (2001::/32, RFC 4380). Every one a packet
 * may go to is listed, so the policy checks each. `translatorPrefix`: the length of the local-use translator's
 * prefix, as the entry that opens it says (RFC 8215 expects the /48 to be split into /64s or /96s); the format
 * read is that of the longest RFC 6052 length not longer than it, the /48 format when it is shorter or unknown.
 */
export function embeddedIpv4s(address: IpAddress, translatorPrefix = 48): EmbeddedIpv4[] {
  if (address.tag !== 'ipv6') return [];
  const value = addressValue(address);
  const top96 = value >> 32n;
  if (top96 === 0xffffn) return [{ address: ipv4At(value, 0n), form: 'IPv4-mapped (::ffff:0:0/96)' }];
  if (top96 === 0x64ff9b0000000000000000n) return [{ address: ipv4At(value, 0n), form: 'NAT64 (64:ff9b::/96)' }];
  if (top96 === 0n && value > 1n) return [{ address: ipv4At(value, 0n), form: 'IPv4-compatible (::/96)' }];
  if (value >> 80n === 0x64ff9b0001n) {
    const length = LOCAL_USE_TRANSLATOR_PREFIXES.find((l) => l <= translatorPrefix) ?? 48;
    return [{ address: rfc6052Ipv4(value, length), form: `NAT64 local-use (64:ff9b:1::/48, read as a /${length} translator prefix)` }];
  }
  if (value >> 112n === 0x2002n) return [{ address: ipv4At(value, 80n), form: '6to4 (2002::/16)' }];
  if (value >> 96n === 0x20010000n) {
    // Teredo: bits 32..63 are the server, the last 32 bits the client's public address XORed with all ones.
    // Packets go to both (data to the client's address, the bubbles that open its NAT by way of its server,
    // RFC 4380 section 5.2), so an address with either half denied is denied.
    return [
      { address: ipv4At(value, 64n), form: 'its Teredo server (2001::/32)' },
      { address: ipv4At(value ^ 0xffffffffn, 0n), form: 'its Teredo client (2001::/32)' },
    ];
  }
  return [];
}

/**
 * The IPv4 address in an IPv4-embedded IPv6 address with a translator prefix of `length` (32, 40, 48, 56, 64 or
 * 96), in RFC 6052's formats (section 2.2): the 32 bits follow the prefix, skipping bits 64..71 (the u octet,
 * zero) — for a /48 in bits 48..63 and 72..87; for a /96 in bits 96..127, after the u octet.
 */
function rfc6052Ipv4(value: bigint, length: number): IpAddress {
  if (length === 96) return ipv4At(value, 0n);
  // The 120 bits without the u octet: the IPv4 address is bits length..length+31 of them.
  const withoutU = ((value >> 64n) << 56n) | (value & ((1n << 56n) - 1n));
  return ipv4At(withoutU, BigInt(120 - length - 32));
}

/** IPv4-mapped IPv6 addresses become the IPv4 address they are: one address, one form, checked and connected alike. */
export function canonicalAddress(address: IpAddress): IpAddress {
  if (address.tag === 'ipv6' && addressValue(address) >> 32n === 0xffffn) return embeddedIpv4s(address)[0]!.address;
  return address;
}

/** 127.0.0.0/8 and ::1 (IPv4-mapped loopback too). */
export function isLoopback(address: IpAddress): boolean {
  const canonical = canonicalAddress(address);
  return canonical.tag === 'ipv4' ? canonical.val[0] === 127 : addressValue(canonical) === 1n;
}

/** The canonical text of an address: dotted decimal, or RFC 5952 for IPv6 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address.tag === 'ipv4') return address.val.join('.');
  const groups = address.val;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** `1.2.3.4:80` or `[::1]:80`: the form people and logs expect. */
export function formatSocketAddress({ address, port }: SocketAddress): string {
  return address.tag === 'ipv4' ? `${formatIp(address)}:${port}` : `[${formatIp(address)}]:${port}`;
}
