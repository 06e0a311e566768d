// Destination policy: which addresses and ports the service may connect to, checked on resolved addresses.

import { ServiceError, SettingError } from './errors.js';
import { type IpAddress, addressValue, embeddedIpv4, formatIp, formatSocketAddress, parsePlainIp } from './ip.js';
import { isHostName } from './target.js';

/** A port, or every port. */
type PortSpec = number | '*';

/** One entry of ALLOWED_TARGETS / DENIED_TARGETS, or of the built-in deny list. */
export type PolicyEntry =
  | { kind: 'range'; family: IpAddress['tag']; network: bigint; prefix: number; port: PortSpec; text: string; note?: string }
  | { kind: 'name'; name: string; port: PortSpec; text: string };

type RangeEntry = Extract<PolicyEntry, { kind: 'range' }>;

const BITS = { ipv4: 32, ipv6: 128 } as const;

function mask(family: IpAddress['tag'], prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

function inRange(entry: RangeEntry, address: IpAddress): boolean {
  return entry.family === address.tag && (addressValue(address) & mask(entry.family, entry.prefix)) === entry.network;
}

const portMatches = (spec: PortSpec, port: number) => spec === '*' || spec === port;

function range(cidr: string, note: string): RangeEntry {
  const entry = parseRange(cidr, '*', cidr);
  if (!entry) throw new Error(`bad built-in range ${cidr}`);
  return { ...entry, note };
}

/** Ranges no request reaches unless an ALLOWED_TARGETS entry names them explicitly (at least as specifically). */
export const BUILT_IN_DENIED: readonly RangeEntry[] = [
  range('0.0.0.0/8', '"this" network'),
  range('10.0.0.0/8', 'private network'),
  range('100.64.0.0/10', 'carrier-grade NAT'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local, cloud metadata'),
  range('172.16.0.0/12', 'private network'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.168.0.0/16', 'private network'),
  range('198.18.0.0/15', 'benchmarking'),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved'),
  range('255.255.255.255/32', 'broadcast'),
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('fc00::/7', 'unique local'),
  range('fe80::/10', 'link-local'),
  range('ff00::/8', 'multicast'),
];

function parseRange(text: string, port: PortSpec, original: string): RangeEntry | undefined {
  const [addressText, prefixText, extra] = text.split('/');
  if (addressText === undefined || extra !== undefined) return undefined;
  const address = parsePlainIp(addressText);
  if (!address) return undefined;
  const width = BITS[address.tag];
  if (prefixText !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) return undefined;
  return { kind: 'range', family: address.tag, network: addressValue(address) & mask(address.tag, prefix), prefix, port, text: original };
}

/**
 * Parses `ADDRESS_OR_CIDR:PORT`, `[IPV6_OR_CIDR]:PORT` or `HOSTNAME:PORT`, port `*` for any.
 * Returns undefined when the entry is malformed.
 */
export function parseEntry(text: string): PolicyEntry | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\*|[1-9][0-9]{0,4})$/.exec(text);
  if (!match) return undefined;
  const [, hostPart = '', portText = ''] = match;
  const port: PortSpec = portText === '*' ? '*' : Number(portText);
  if (port !== '*' && port > 65535) return undefined;
  if (hostPart.startsWith('[')) {
    const entry = parseRange(hostPart.slice(1, -1), port, text);
    return entry?.family === 'ipv6' ? entry : undefined;
  }
  if (/^[0-9./]+$/.test(hostPart)) return parseRange(hostPart, port, text);
  const name = hostPart.toLowerCase().replace(/\.$/, '');
  if (!isHostName(name)) return undefined;
  return { kind: 'name', name, port, text };
}

/** The items of a comma-separated setting, trimmed, empty ones dropped: the one list syntax of every setting. */
export function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A comma-separated list of entries; throws config-invalid naming `variable` on the first malformed one. */
export function parseEntries(variable: string, raw: string): PolicyEntry[] {
  return commaList(raw).map((text) => {
    const entry = parseEntry(text);
    if (!entry) {
      const expected = 'ADDRESS:PORT, CIDR:PORT (10.0.0.0/8:6379), [IPV6]:PORT, [IPV6/LEN]:PORT or HOSTNAME:PORT, with PORT 1-65535 or *';
      throw new SettingError(variable, expected, `setting ${variable} has a malformed entry ${JSON.stringify(text)}: expected ${expected}`);
    }
    return entry;
  });
}

function mostSpecific(entries: readonly PolicyEntry[], address: IpAddress, port: number): RangeEntry | undefined {
  let best: RangeEntry | undefined;
  for (const entry of entries) {
    if (entry.kind === 'range' && portMatches(entry.port, port) && inRange(entry, address) && (!best || entry.prefix > best.prefix)) best = entry;
  }
  return best;
}

/**
 * The destination policy. With no allow list, everything outside the deny lists is reachable; with one,
 * only what it names. A denied range stays denied unless an allow entry covers the address at least as
 * specifically as the deny entry does (so `127.0.0.1:*` opens loopback, `0.0.0.0/0:*` does not).
 */
export class Policy {
  constructor(
    private readonly allowed: PolicyEntry[] | undefined,
    private readonly denied: PolicyEntry[],
  ) {}

  /** Throws 403 destination-denied unless every address may be connected to for the named host and port. */
  check(host: string, isName: boolean, addresses: IpAddress[], port: number): void {
    for (const address of addresses) this.checkOne(host, isName, address, port);
  }

  private checkOne(host: string, isName: boolean, address: IpAddress, port: number): void {
    const where = formatSocketAddress({ address, port });
    const asked = isName ? `${host}:${port} (resolved to ${formatIp(address)})` : where;
    const deny = (message: string) => {
      throw new ServiceError('destination-denied', 403, `${asked} is not allowed: ${message}`);
    };
    if (isName) {
      const byName = this.denied.find((e) => e.kind === 'name' && e.name === host && portMatches(e.port, port));
      if (byName) deny(`DENIED_TARGETS entry "${byName.text}" denies it; remove that entry to allow it`);
    }
    const views = [address, embeddedIpv4(address)].filter((a): a is IpAddress => a !== undefined);
    for (const view of views) {
      const builtIn = mostSpecific(BUILT_IN_DENIED, view, port);
      const configured = mostSpecific(this.denied, view, port);
      const denial = !builtIn || (configured && configured.prefix >= builtIn.prefix) ? configured : builtIn;
      if (!denial) continue;
      const allowance = this.allowed && mostSpecific(this.allowed, view, port);
      if (allowance && allowance.prefix >= denial.prefix) continue;
      const viaEmbedded = view === address ? '' : ` (it carries the IPv4 address ${formatIp(view)})`;
      if (denial === builtIn) {
        deny(
          `${formatIp(view)} is in ${builtIn.text} (${builtIn.note}), denied by default${viaEmbedded}; to allow it, add "${formatSocketAddress({ address: view, port })}" or "${builtIn.family === 'ipv6' ? `[${builtIn.text}]` : builtIn.text}:*" to ALLOWED_TARGETS`,
        );
      }
      deny(`DENIED_TARGETS entry "${denial.text}" denies it${viaEmbedded}; remove that entry, or allow the address more specifically in ALLOWED_TARGETS`);
    }
    if (!this.allowed) return;
    const byRange = views.some((view) => mostSpecific(this.allowed!, view, port));
    const byName = isName && this.allowed.some((e) => e.kind === 'name' && e.name === host && portMatches(e.port, port));
    if (!byRange && !byName) {
      const suggestion = isName ? `"${host}:${port}" or "${where}"` : `"${where}"`;
      deny(`ALLOWED_TARGETS does not include it; add ${suggestion} to ALLOWED_TARGETS`);
    }
  }
}
