// What the caller asked to connect to: a validated host (name or IP literal) and port.

import { ServiceError, shown } from '../core/errors.js';
import { type IpAddress, canonicalAddress, formatIp, parseIpv4, parseIpv6, unbracket } from './ip.js';

/** A destination as the caller named it, validated: either a DNS name or an IP literal. */
export type Target =
  | { kind: 'name'; host: string; port: number }
  | { kind: 'ip'; host: string; address: IpAddress; port: number };

const MAX_HOST_LENGTH = 253;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** The lowest and highest TCP port a caller or a setting may name (0 is "any port" to a socket, never a destination). */
export const MIN_PORT = 1;
export const MAX_PORT = 65_535;

/** A DNS name as compared and shown: lower case, without the trailing dot of a fully qualified name. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * A host name, canonical: dot-separated labels of letters, digits, `-` and `_`, 253 characters at most, and
 * never number-shaped (`1.2.3`, `0x7f.1` are IPv4 spellings, as the URL standard reads them, not names).
 * undefined when `text` is not one.
 */
export function parseHostName(text: string): string | undefined {
  const name = canonicalName(text);
  if (name.length > MAX_HOST_LENGTH || !name.split('.').every((label) => LABEL.test(label))) return undefined;
  return parseIpv4(name) === undefined ? name : undefined;
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
    if (!parsed) throw new ServiceError('invalid-host', `host ${quoted} is not a valid IPv6 address`);
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

/** Builds a target from already-validated parts. */
export function makeTarget(rawHost: string, port: number): Target {
  const { host, address } = parseHost(rawHost);
  return address ? { kind: 'ip', host, address, port } : { kind: 'name', host, port };
}

/** `host:port` with IPv6 in brackets, as used in messages and the Host header. */
export function formatTarget(target: Target): string {
  return target.kind === 'ip' && target.address.tag === 'ipv6' ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}
