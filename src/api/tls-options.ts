// How a caller asks for TLS: `tls=true` and `server_name=` on a query, `"tls"` and `"starttls"` in a dialogue.
// One validation for every door; the server name is checked strictly and never chooses where to connect.

import { ServiceError, shown } from '../core/errors.js';
import { canonicalAddress, formatIp, parsePlainIp, unbracket } from '../net/ip.js';
import type { TlsStart } from '../net/dialogue.js';
import { parseHostName, type Target } from '../net/target.js';

/** `"tls"` / `"starttls"` in a dialogue: `true`, or an object naming the server. */
export type TlsOption = boolean | { server_name?: string };

const invalidParameter = (message: string) => new ServiceError('invalid-parameter', message);

/**
 * The name the certificate must be valid for: `given` (a DNS name or an IP address), else the target's host
 * (its IP address for an IP target, so the certificate must carry that address). `field` names the input.
 */
export function serverNameFor(target: Target, given: string | undefined, field: string): string {
  if (given === undefined) return target.kind === 'ip' ? formatIp(target.address) : target.host;
  // Strictly: an address in plain notation (dotted decimal, IPv6 with or without brackets; no short or hex
  // IPv4 forms), else a host name; never anything a certificate could not name.
  const { inner, bracketed } = unbracket(given);
  const address = parsePlainIp(inner, bracketed);
  if (address) return formatIp(canonicalAddress(address));
  const name = bracketed ? undefined : parseHostName(inner);
  if (name === undefined) {
    throw invalidParameter(`${field} ${shown(given, 80)} is not a DNS name or an IP address (letters, digits, "-" and "_" in dot-separated labels, the last not a number; IPv4 in dotted decimal)`);
  }
  return name;
}

/** The TLS start for `target`, trusting `extraRootsPem` besides Mozilla's roots. */
export function tlsStart(target: Target, serverName: string | undefined, extraRootsPem: string, field: string): TlsStart {
  return { serverName: serverNameFor(target, serverName, field), extraRootsPem };
}

/**
 * Whether a query asks for TLS: `tls=true`, or a `server_name=` (a name to verify means TLS). `tls` takes only
 * `true`: plaintext is asked for by leaving it out, so no combination of the two can contradict the other.
 */
export function queryTls(query: { get(name: string): string | undefined }): boolean {
  const raw = query.get('tls');
  if (raw !== undefined && raw !== 'true') throw invalidParameter(`tls ${shown(raw, 20)} is not true: give tls=true for TLS, or leave it out for plain TCP`);
  return raw === 'true' || query.get('server_name') !== undefined;
}

/** A dialogue's option as a TLS start, or undefined for `false` / absent; `roots` is read only when TLS is asked for. */
export function dialogueTls(option: TlsOption | undefined, target: Target, roots: () => string, field: string): TlsStart | undefined {
  if (option === undefined || option === false) return undefined;
  const name = option === true ? undefined : option.server_name;
  return tlsStart(target, name, roots(), `${field}/server_name`);
}
