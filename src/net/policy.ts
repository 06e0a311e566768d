// Destination policy: which addresses and ports the service may connect to, checked on resolved addresses.

import { ServiceError } from '../core/errors.js';
import { type IpAddress, addressValue, canonicalAddress, embeddedIpv4s, formatIp, formatSocketAddress, parsePlainIp } from './ip.js';
import { type Target, isPort, parseHostName, splitHostPort } from './target.js';

/** A port, or every port. */
type PortSpec = number | '*';

/** One entry of ALLOWED_TARGETS / DENIED_TARGETS, or of the built-in deny list. */
export type PolicyEntry =
  | { kind: 'range'; family: IpAddress['tag']; network: bigint; mask: bigint; prefix: number; port: PortSpec; text: string; note?: string }
  | { kind: 'name'; name: string; port: PortSpec; text: string };

type RangeEntry = Extract<PolicyEntry, { kind: 'range' }>;

const BITS = { ipv4: 32, ipv6: 128 } as const;

/** The prefix of ::ffff:0:0/96, the IPv4-mapped addresses. */
const MAPPED_PREFIX = 96;

function mask(family: IpAddress['tag'], prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

/** An address as a family and an integer, worked out once per check rather than once per entry. */
interface AddressValue {
  family: IpAddress['tag'];
  value: bigint;
}

function inRange(entry: RangeEntry, address: AddressValue): boolean {
  return entry.family === address.family && (address.value & entry.mask) === entry.network;
}

const portMatches = (spec: PortSpec, port: number) => spec === '*' || spec === port;

function range(cidr: string, note: string): RangeEntry {
  const entry = parseRange(cidr, false, '*', cidr);
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
  // Translators and tunnels to IPv4 an operator runs or this machine may use: whatever they reach is theirs to
  // allow. The IPv4 addresses they carry are checked too (embeddedIpv4s), also where an entry opens the range.
  range('64:ff9b:1::/48', 'NAT64 local-use'),
  range('2001::/32', 'Teredo'),
  range('fc00::/7', 'unique local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated)'),
  range('ff00::/8', 'multicast'),
];

/** `ADDRESS` or `ADDRESS/LEN`; `bracketed`: it stood in brackets, so it must be IPv6. */
function parseRange(text: string, bracketed: boolean, port: PortSpec, original: string): RangeEntry | undefined {
  const [addressText, prefixText, extra] = text.split('/');
  if (addressText === undefined || extra !== undefined) return undefined;
  const written = parsePlainIp(addressText, bracketed);
  if (!written) return undefined;
  if (prefixText !== undefined && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return undefined;
  const writtenPrefix = prefixText === undefined ? BITS[written.tag] : Number(prefixText);
  if (writtenPrefix > BITS[written.tag]) return undefined;
  // An IPv4-mapped range is the IPv4 range it maps, as a mapped destination is the IPv4 address it maps.
  const address = writtenPrefix >= MAPPED_PREFIX ? canonicalAddress(written) : written;
  const prefix = address === written ? writtenPrefix : writtenPrefix - MAPPED_PREFIX;
  // The mask is kept with the entry: the built-in list and the settings are parsed once, checked on every request.
  const entryMask = mask(address.tag, prefix);
  return { kind: 'range', family: address.tag, network: addressValue(address) & entryMask, mask: entryMask, prefix, port, text: original };
}

/**
 * Parses `ADDRESS_OR_CIDR:PORT`, `[IPV6_OR_CIDR]:PORT` or `HOSTNAME:PORT`, port `*` for any.
 * Returns undefined when the entry is malformed.
 */
export function parseEntry(text: string): PolicyEntry | undefined {
  const split = splitHostPort(text);
  if (split?.port === undefined) return undefined;
  const port: PortSpec | undefined = split.port === '*' ? '*' : isPort(split.port) ? Number(split.port) : undefined;
  if (port === undefined) return undefined;
  const name = split.bracketed ? undefined : parseHostName(split.host);
  if (name !== undefined) return { kind: 'name', name, port, text };
  return parseRange(split.host, split.bracketed, port, text);
}

function mostSpecific(entries: readonly PolicyEntry[], address: AddressValue, port: number): RangeEntry | undefined {
  let best: RangeEntry | undefined;
  for (const entry of entries) {
    if (entry.kind === 'range' && portMatches(entry.port, port) && inRange(entry, address) && (!best || entry.prefix > best.prefix)) best = entry;
  }
  return best;
}

/**
 * The destination policy. With no allow list, everything outside the deny lists is reachable; with one,
 * only what it names. A denied range stays denied unless an allow entry covers the address at least as
 * specifically as the deny entry does (so `127.0.0.1:*` opens loopback, `0.0.0.0/0:*` does not). The server's
 * own addresses (`own`, OWN_ADDRESSES) are denied whatever the allow list says: a request to one loops back.
 */
export class Policy implements DestinationCheck {
  constructor(
    private readonly allowed: PolicyEntry[] | undefined,
    private readonly denied: PolicyEntry[],
    private readonly own: PolicyEntry[] = [],
  ) {}

  /** Throws 403 destination-denied unless every address `target` resolved to may be connected to on its port. */
  check(target: Target, addresses: readonly IpAddress[]): void {
    for (const address of addresses) this.checkOne(target, address);
  }

  private checkOne(target: Target, address: IpAddress): void {
    const { host, port } = target;
    const isName = target.kind === 'name';
    const where = formatSocketAddress({ address, port });
    const deny = (message: string) => {
      throw new ServiceError('destination-denied', `${describeDestination(target, address)} is not allowed: ${message}`);
    };
    // The address itself, then each IPv4 address it carries: every one a packet may go to must pass.
    const views = addressViews(address, port, this.allowed);
    const ownName = isName && this.own.some((e) => e.kind === 'name' && e.name === host && portMatches(e.port, port));
    const ownView = views.find((view) => mostSpecific(this.own, view.value, port));
    if (ownName || ownView) {
      const viaEmbedded = ownView && ownView.form !== '' ? ` (it carries the IPv4 address ${formatIp(ownView.address)} as ${ownView.form})` : '';
      deny(`it is this server's own address (OWN_ADDRESSES)${viaEmbedded}: a request to it would loop back into the server`);
    }
    if (isName) {
      const byName = this.denied.find((e) => e.kind === 'name' && e.name === host && portMatches(e.port, port));
      if (byName) deny(`DENIED_TARGETS entry "${byName.text}" denies it; remove that entry to allow it`);
    }
    for (const { address: viewed, form, value } of views) {
      const builtIn = mostSpecific(BUILT_IN_DENIED, value, port);
      const configured = mostSpecific(this.denied, value, port);
      const denial = !builtIn || (configured && configured.prefix >= builtIn.prefix) ? configured : builtIn;
      if (!denial) continue;
      const allowance = this.allowed && mostSpecific(this.allowed, value, port);
      if (allowance && allowance.prefix >= denial.prefix) continue;
      const viaEmbedded = form === '' ? '' : ` (it carries the IPv4 address ${formatIp(viewed)} as ${form})`;
      if (denial === builtIn) {
        deny(
          `${formatIp(viewed)} is in ${builtIn.text} (${builtIn.note}), denied by default${viaEmbedded}; to allow it, add "${formatSocketAddress({ address: viewed, port })}" or "${builtIn.family === 'ipv6' ? `[${builtIn.text}]` : builtIn.text}:*" to ALLOWED_TARGETS`,
        );
      }
      deny(`DENIED_TARGETS entry "${denial.text}" denies it${viaEmbedded}; remove that entry, or allow the address more specifically in ALLOWED_TARGETS`);
    }
    if (!this.allowed) return;
    if (!listIncludes(this.allowed, target, address)) {
      const suggestion = isName ? `"${host}:${port}" or "${where}"` : `"${where}"`;
      deny(`ALLOWED_TARGETS does not include it; add ${suggestion} to ALLOWED_TARGETS`);
    }
  }
}

/** A destination as messages name it: `HOST:PORT (resolved to IP)` for a name, `IP:PORT` for an address. */
export function describeDestination(target: Target, address: IpAddress): string {
  const where = formatSocketAddress({ address, port: target.port });
  return target.kind === 'name' ? `${target.host}:${target.port} (resolved to ${formatIp(address)})` : where;
}

/**
 * The address itself, then each IPv4 address it carries (embeddedIpv4s), each as a value to match. An entry of
 * `entries` that opens a local-use NAT64 prefix says how long the translator's prefix is, so where the IPv4 is.
 */
function addressViews(address: IpAddress, port: number, entries: readonly PolicyEntry[] | undefined) {
  const valueOf = (view: IpAddress) => ({ family: view.tag, value: addressValue(view) });
  const openedBy = entries && mostSpecific(entries, valueOf(address), port);
  return [{ address, form: '' }, ...embeddedIpv4s(address, openedBy?.prefix)].map((view) => ({ ...view, value: valueOf(view.address) }));
}

/**
 * Whether an allow list (ALLOWED_TARGETS, a caller's allowed_targets, a secret's destinations) names the
 * destination: a range entry holding the address or an IPv4 address it carries, or a name entry for the name
 * asked, on a matching port. The one meaning of "the list includes it" for every list in the policy syntax.
 */
export function listIncludes(entries: readonly PolicyEntry[], target: Target, address: IpAddress): boolean {
  const { port } = target;
  if (target.kind === 'name' && entries.some((e) => e.kind === 'name' && e.name === target.host && portMatches(e.port, port))) return true;
  return addressViews(address, port, entries).some((view) => mostSpecific(entries, view.value, port));
}

/** What decides whether a destination may be connected to: the service's Policy, or one narrowed for a caller. */
export interface DestinationCheck {
  /** Throws 403 destination-denied unless every address `target` resolved to may be connected to on its port. */
  check(target: Target, addresses: readonly IpAddress[]): void;
}

/**
 * The policy of caller `callerName`: an address is reachable only when its `allowed` list includes it and the
 * service's policy allows it. The caller's list is asked first, so a caller learns nothing of the service's
 * settings about addresses outside its own reach. `allowed` undefined: the service's policy as it is.
 */
export function narrowPolicy(service: DestinationCheck, callerName: string, allowed: readonly PolicyEntry[] | undefined): DestinationCheck {
  if (!allowed) return service;
  return {
    check(target, addresses) {
      for (const address of addresses) {
        if (!listIncludes(allowed, target, address)) {
          throw new ServiceError(
            'destination-denied',
            `${describeDestination(target, address)} is not allowed: it is outside caller "${callerName}"'s allowed targets (its allowed_targets in CALLERS); the operator can add "${formatSocketAddress({ address, port: target.port })}" there`,
          );
        }
      }
      service.check(target, addresses);
    },
  };
}
