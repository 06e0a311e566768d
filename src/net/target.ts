// What the caller asked to connect to: a validated host (name or IP literal) and port.

import { ServiceError, shown } from '../core/errors.js';
import { type IpAddress, canonicalAddress, formatIp, parseIpv4, parseIpv6, unbracket } from './ip.js';

/** A destination as the caller named it, validated: either a DNS name or an IP literal. */
export type Target =
  | { kind: 'name'; host: string; port: number }
  | { kind: 'ip'; host: string; address: IpAddress; port: number };

/**
 * The host grammar, written once as patterns (ECMAScript and JSON Schema `pattern` syntax alike): the parser
 * below reads names with HOST_NAME_PATTERN itself, and the document (exchange-schema.ts) shows these patterns,
 * so the two cannot disagree on what a host is. A label: letters, digits, `_` and inner `-`, 1 to 63 characters.
 */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
/**
 * The last label is never number-shaped (all digits, or `0x` and hex digits): the URL standard reads such text
 * (`1.2.3`, `0x7f.1`, `foo.123`) as an IPv4 address, or as invalid, never as a name. `foo.1a` is a name.
 */
const NOT_A_NUMBER = '(?![0-9]+\\.?$|0[xX][0-9A-Fa-f]*\\.?$)';
/** A host name: 253 characters at most without the trailing dot a fully qualified name may end with. */
export const HOST_NAME_PATTERN = `^(?=.{1,253}\\.?$)(?:${LABEL}\\.)*${NOT_A_NUMBER}${LABEL}\\.?$`;
const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const DOTTED_DECIMAL = `(?:${IPV4_OCTET}\\.){3}${IPV4_OCTET}`;
/** IPv4 in dotted decimal: the usual form (the parser takes the URL standard's other spellings too). */
export const DOTTED_DECIMAL_PATTERN = `^${DOTTED_DECIMAL}$`;
const H16 = '[0-9A-Fa-f]{1,4}';
/** The last 32 bits of an IPv6 address: two groups, or dotted decimal (`::ffff:192.0.2.1`). */
const LS32 = `(?:${H16}:${H16}|${DOTTED_DECIMAL})`;
/** RFC 3986's IPv6address, branch by branch: n groups before `::` and 7 - n - 1 at most after it, or none elided. */
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|');
/** An IPv6 address without brackets, and in them. */
export const IPV6_PATTERN = `^(?:${IPV6})$`;
export const BRACKETED_IPV6_PATTERN = `^\\[(?:${IPV6})\\]$`;

const HOST_NAME = new RegExp(HOST_NAME_PATTERN, 'u');

/** The lowest and highest TCP port a caller or a setting may name (0 is "any port" to a socket, never a destination). */
export const MIN_PORT = 1;
export const MAX_PORT = 65_535;

/** A DNS name as compared and shown: lower case, without the trailing dot of a fully qualified name. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * A host name, canonical: dot-separated labels of letters, digits, `-` and `_`, 253 characters at most, and
 * never number-shaped (HOST_NAME_PATTERN). undefined when `text` is not one.
 */
export function parseHostName(text: string): string | undefined {
  return HOST_NAME.test(text) ? canonicalName(text) : undefined;
}

/**
 * Validates a host: a DNS name (letters, digits, `-`, `_`, dots; 253 characters at most) or an IP literal.
 * IPv6 is accepted with or without brackets. Anything else, control characters and spaces included,
 * is a 400: nothing the caller sends can reach the bytes of an outgoing request unchecked.
 */
export function parseHost(raw: string): { host: string; address?: IpAddress } {
  if (raw === '') throw new ServiceError('invalid-host', 'host is empty');
  const quoted = shown(raw, 80);
  const { inner, bracketed } = unbracket(raw);
  if (inner.includes('%') && inner.includes(':')) {
    throw new ServiceError('invalid-host', `host ${quoted} has an IPv6 zone id; zone ids are not supported, use a global address`);
  }
  if (bracketed || inner.includes(':')) {
    const parsed = parseIpv6(inner);
    if (!parsed) {
      // Only IPv6 has a ":" in a host, and at least two; other text is no attempt at IPv6 (`a.b:443`, a header).
      const ipv6Like = bracketed || (/^[0-9A-Fa-f:.]+$/.test(inner) && inner.split(':').length > 2);
      const what = ipv6Like ? 'is not a valid IPv6 address' : 'is not a valid host name or IP address (":" appears in IPv6 addresses only; give the port separately)';
      throw new ServiceError('invalid-host', `host ${quoted} ${what}`);
    }
    const v6 = canonicalAddress(parsed);
    return { host: formatIp(v6), address: v6 };
  }
  const v4 = parseIpv4(inner);
  if (v4 === null) throw new ServiceError('invalid-host', `host ${quoted} looks like an IPv4 address but is not a valid one`);
  if (v4) return { host: formatIp(v4), address: v4 };
  const name = parseHostName(inner);
  if (name === undefined) {
    throw new ServiceError(
      'invalid-host',
      `host ${quoted} is not a valid host name (letters, digits, "-" and "_" in dot-separated labels) or IP address`,
    );
  }
  return { host: name };
}

/** Whether `text` is a port: decimal digits only, 1 to 65535 (no `0x50`, `1e3`, `+80` or leading zeros). */
export function isPort(text: string): boolean {
  return /^[1-9][0-9]{0,4}$/.test(text) && Number(text) <= MAX_PORT;
}

/** Validates a port given by a caller; anything but a port is a 400. */
export function parsePort(raw: string): number {
  if (!isPort(raw)) {
    throw new ServiceError('invalid-port', `port ${shown(raw, 20)} is not a port number: use a decimal number from ${MIN_PORT} to ${MAX_PORT}`);
  }
  return Number(raw);
}

/**
 * Splits `HOST:PORT`, `HOST`, `[IPV6]:PORT` or `[IPV6]`: a host without brackets has no colon, so IPv6 before a
 * port must be bracketed. `host` comes without its brackets; `port` is the unchecked text after the colon.
 * undefined when the text has none of these shapes.
 */
export function splitHostPort(text: string): { host: string; bracketed: boolean; port: string | undefined } | undefined {
  const colon = text.indexOf(':');
  const end = text.startsWith('[') ? text.indexOf(']') + 1 : colon === -1 ? text.length : colon;
  const rest = text.slice(end);
  if (end === 0 || (rest !== '' && !rest.startsWith(':'))) return undefined;
  const { inner, bracketed } = unbracket(text.slice(0, end));
  if (inner === '' || /[[\]]/.test(inner)) return undefined;
  return { host: inner, bracketed, port: rest === '' ? undefined : rest.slice(1) };
}

/** Builds a target from a host it validates (`parseHost`: 400 `invalid-host`) and a port already parsed (`parsePort`). */
export function makeTarget(rawHost: string, port: number): Target {
  const { host, address } = parseHost(rawHost);
  return address ? { kind: 'ip', host, address, port } : { kind: 'name', host, port };
}

/** `host:port` with IPv6 in brackets, as used in messages and the Host header. */
export function formatTarget(target: Target): string {
  return target.kind === 'ip' && target.address.tag === 'ipv6' ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
