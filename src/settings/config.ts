// The one place that reads settings: environment variables → validated, bounded configuration.

import { SettingError } from '../core/errors.js';
import { type IpAddress, type SocketAddress, canonicalAddress, isLoopback, parsePlainIp, parseSettingIp, unbracket } from '../net/ip.js';
import { Policy, type PolicyEntry, parseEntry } from '../net/policy.js';
import type { DnsMode, DnsSettings } from '../net/dns/resolver.js';
import type { LimitName, Limits } from '../net/dialogue.js';
import { RootsUnreadable } from '../net/tls/engine.js';
import { ANONYMOUS_CALLER_NAME, type Callers, TOKEN_CALLER_NAME } from '../net/caller.js';
import type { SecretTable } from '../net/secrets.js';
import { parseCallers } from './callers-setting.js';
import { settingProblem } from './json-setting.js';
import { parseSecrets } from './secrets-setting.js';
import { NUMERIC_SETTINGS as BOUNDS, SETTINGS, type SettingEntry, commaList, parseWholeNumber, settingEntry, wholeNumberForm } from './setting-table.js';
import { isPort, parseHost, parseHostName, splitHostPort } from '../net/target.js';

/** Read-only view of the environment the host gave the component. */
export type { Callers, DnsMode, DnsSettings, Limits, SecretTable };

export type Environment = Readonly<Record<string, string | undefined>>;

/** The target of `GET /` when the caller names none, and the addresses to use when the host refuses lookups. */
export interface DefaultTarget {
  host: string;
  port: number;
  fallbackAddresses: IpAddress[];
}

/** The port of a DNS server given without one. */
const DNS_PORT = 53;

/** A numeric setting: its variable, default and the hard bounds no configuration can pass. */
interface NumericSetting {
  name: string;
  defaultValue: number;
  min: number;
  max: number;
  unit: string;
}

/** Every numeric setting, from the one table (settings/setting-table.js, which the local host reads too). */
export const NUMERIC_SETTINGS: Record<LimitName, NumericSetting> & typeof BOUNDS = BOUNDS;

/** The form a malformed value of `name` is told to take, from the table. */
function expectedOf(name: string): string {
  return settingEntry(name).expected;
}

export const DEFAULT_TARGET_HOST = String(settingEntry('DEFAULT_TARGET_HOST').defaultValue);
export const DEFAULT_TARGET_PORT = Number(settingEntry('DEFAULT_TARGET_PORT').defaultValue);

/**
 * Addresses of example.com, used only when the default host is example.com and the host refuses lookups
 * (Spin). Addresses of public sites change: DEFAULT_TARGET_FALLBACK_IPS overrides them.
 */
const EXAMPLE_COM_FALLBACK_IPS = '23.192.228.80,23.192.228.84,23.215.0.136,23.215.0.138,96.7.128.175,96.7.128.198';

/** Reads PEM trust anchors as the TLS engine does: how many certificates, or throws what is wrong (`RootsUnreadable`). */
export type TlsRootsReader = (pem: string) => number;

/** What TLS_CA_CERTS must hold. */
const TLS_CA_CERTS_FORM = expectedOf('TLS_CA_CERTS');

/**
 * Which browser origins and Host names requests may carry (ALLOWED_ORIGINS, ALLOWED_HOSTS, LISTEN_ADDRESS): the
 * shape src/http/origin.ts checks requests against.
 */
export interface RequestOrigins {
  allowedOrigins: readonly string[];
  allowedHosts: readonly string[];
  /** LISTEN_ADDRESS when it is a loopback address (the Host check is on); undefined when unset or not loopback. */
  loopbackAddress: string | undefined;
}

/** Configuration with each group validated on first use, so a bad setting fails only the requests that need it. */
export class Config {
  #limits?: Limits;
  #defaultTarget?: DefaultTarget;
  #policy?: Policy;
  #authToken?: { value: string | undefined };
  #callers?: Callers;
  #secrets?: SecretTable;
  #dns?: DnsSettings;
  #auditLog?: boolean;
  #tlsRoots?: string;
  #origins?: RequestOrigins;
  /**
   * `readTlsRoots` is the TLS engine's own PEM reader (one parser for the check and the handshake); without
   * it (unit tests), TLS_CA_CERTS is taken as given and the engine judges it at the first handshake.
   */
  constructor(
    private readonly env: Environment,
    private readonly readTlsRoots?: TlsRootsReader,
  ) {}

  /** Trust anchors added to Mozilla's for TLS (TLS_CA_CERTS, PEM): empty when unset. */
  get tlsRoots(): string {
    this.#tlsRoots ??= readTlsRootsSetting(this.env, this.readTlsRoots);
    return this.#tlsRoots;
  }

  /** The browser origins and Host names requests may carry; throws `config-invalid` naming a malformed setting. */
  get origins(): RequestOrigins {
    this.#origins ??= readOrigins(this.env);
    return this.#origins;
  }

  /**
   * Where connections may go: ALLOWED_TARGETS (unset: anything not denied) and DENIED_TARGETS plus the built-in
   * deny list; never to OWN_ADDRESSES, the server's own.
   */
  get policy(): Policy {
    const allowed = this.env.ALLOWED_TARGETS?.trim();
    this.#policy ??= new Policy(
      allowed ? parseEntries('ALLOWED_TARGETS', allowed) : undefined,
      parseEntries('DENIED_TARGETS', this.env.DENIED_TARGETS ?? ''),
      parseEntries('OWN_ADDRESSES', this.env.OWN_ADDRESSES ?? ''),
    );
    return this.#policy;
  }

  /** The bearer token every endpoint but /health and /ready requires, or undefined when AUTH_TOKEN is unset or empty. */
  get authToken(): string | undefined {
    this.#authToken ??= { value: readAuthToken(this.env) };
    return this.#authToken.value;
  }

  /**
   * Who may call and with what: the callers of CALLERS (by token digest), AUTH_TOKEN's one caller (the service's
   * reach and limits, every secret), or, with neither, one anonymous caller; throws `config-invalid` naming the
   * caller and field of a malformed entry, or when both CALLERS and AUTH_TOKEN are set.
   */
  get callers(): Callers {
    this.#callers ??= readCallersSetting(this.env);
    return this.#callers;
  }

  /** The secrets of SECRETS by name (empty when unset); throws `config-invalid` naming the secret and field of a malformed one. */
  get secrets(): SecretTable {
    this.#secrets ??= readSecretsSetting(this.env);
    return this.#secrets;
  }

  /** Limits of every outbound exchange; throws `config-invalid` naming the variable if one is malformed. */
  get limits(): Limits {
    this.#limits ??= readLimits(this.env);
    return this.#limits;
  }

  /** Whether the audit log is written (AUDIT_LOG: on, the default, or off); throws `config-invalid` for anything else. */
  get auditLog(): boolean {
    this.#auditLog ??= readAuditLog(this.env);
    return this.#auditLog;
  }

  /** How names are resolved (DNS_MODE) and the DNS servers to ask over TCP (DNS_SERVERS). */
  get dns(): DnsSettings {
    this.#dns ??= readDns(this.env);
    return this.#dns;
  }

  /**
   * Every malformed setting, each checked on its own (a request fails on the first one its group needs;
   * `/ready` reports them all). Empty when every setting is well-formed.
   */
  get problems(): SettingError[] {
    const checks = SETTINGS.map((entry) => () => readerOf(entry)(this.env, this.readTlsRoots));
    const found = new Map<string, SettingError>();
    for (const check of checks) {
      try {
        check();
      } catch (error) {
        if (!(error instanceof SettingError)) throw error;
        found.set(error.setting, error);
      }
    }
    return [...found.values()];
  }

  /** The default target of `GET /` and its fallback addresses. */
  get defaultTarget(): DefaultTarget {
    this.#defaultTarget ??= readDefaultTarget(this.env);
    return this.#defaultTarget;
  }
}

/** TLS_CA_CERTS: PEM certificates, read by the engine; its text is never echoed (it is the operator's). */
function readTlsRootsSetting(env: Environment, read: TlsRootsReader | undefined): string {
  const pem = env.TLS_CA_CERTS ?? '';
  if (pem.trim() === '') return '';
  const fail = (why: string) => new SettingError('TLS_CA_CERTS', TLS_CA_CERTS_FORM, `setting TLS_CA_CERTS is invalid: ${why}`);
  if (!read) return pem;
  let count: number;
  try {
    count = read(pem);
  } catch (error) {
    throw fail(error instanceof RootsUnreadable ? error.problem : 'it cannot be read as PEM certificates');
  }
  if (count === 0) throw fail(`it holds no certificate; expected ${TLS_CA_CERTS_FORM}`);
  return pem;
}

/** Reads one setting from the environment: its value, or a SettingError naming it. */
type SettingReader = (env: Environment, readTlsRoots: TlsRootsReader | undefined) => unknown;

/** The reader of each setting of the table with a parser of its own (`parser: 'own'`). */
const OWN_READERS: Readonly<Record<string, SettingReader>> = {
  DEFAULT_TARGET_HOST: readDefaultHost,
  DEFAULT_TARGET_PORT: readDefaultPort,
  DEFAULT_TARGET_FALLBACK_IPS: (env) => readFallbacks(env, (env.DEFAULT_TARGET_HOST?.trim() || DEFAULT_TARGET_HOST).toLowerCase()),
  ALLOWED_TARGETS: (env) => parseEntries('ALLOWED_TARGETS', env.ALLOWED_TARGETS?.trim() ?? ''),
  DENIED_TARGETS: (env) => parseEntries('DENIED_TARGETS', env.DENIED_TARGETS ?? ''),
  OWN_ADDRESSES: (env) => parseEntries('OWN_ADDRESSES', env.OWN_ADDRESSES ?? ''),
  AUTH_TOKEN: readAuthToken,
  CALLERS: readCallersSetting,
  SECRETS: readSecretsSetting,
  DNS_SERVERS: readDnsServers,
  DNS_MODE: readDns,
  AUDIT_LOG: readAuditLog,
  TLS_CA_CERTS: readTlsRootsSetting,
  ALLOWED_ORIGINS: readAllowedOrigins,
  ALLOWED_HOSTS: readAllowedHosts,
  LISTEN_ADDRESS: readListenAddress,
};

/** How a table entry is read: whole numbers by the one parser, the rest by their own reader. */
function readerOf(entry: SettingEntry): SettingReader {
  if (entry.parser === 'whole-number') return (env) => readNumber(env, entry as NumericSetting);
  const reader = OWN_READERS[entry.name];
  if (!reader) throw new Error(`setting ${entry.name} has no reader in src/settings/config.ts`);
  return reader;
}

function invalidSetting(name: string, value: string, expected: string): SettingError {
  return new SettingError(name, expected, `setting ${name}=${JSON.stringify(value)} is invalid: expected ${expected}`);
}

/** AUDIT_LOG: `on` (also when unset or empty) or `off`, in any case. */
function readAuditLog(env: Environment): boolean {
  const raw = env.AUDIT_LOG;
  const text = raw?.trim().toLowerCase() ?? '';
  if (text === '' || text === 'on') return true;
  if (text === 'off') return false;
  throw invalidSetting('AUDIT_LOG', raw!, expectedOf('AUDIT_LOG'));
}

function readNumber(env: Environment, setting: NumericSetting): number {
  const raw = env[setting.name];
  if (raw === undefined || raw.trim() === '') return setting.defaultValue;
  const value = parseWholeNumber(raw.trim(), setting.min, setting.max);
  if (value === undefined) throw invalidSetting(setting.name, raw, wholeNumberForm(setting));
  return value;
}

/** Tokens shorter than this are guessable; a deployment that sets one must set a real one. */
const MIN_TOKEN_LENGTH = 16;

function readAuthToken(env: Environment): string | undefined {
  const raw = env.AUTH_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  // Never echo the value of a secret in an error message.
  const fail = (why: string) => new SettingError('AUTH_TOKEN', why, `setting AUTH_TOKEN is invalid: ${why}`);
  if (raw.includes('{{')) throw fail('it looks like an unexpanded template ({{ ... }}); provide the secret itself');
  if (!/^[\x21-\x7e]+$/.test(raw)) throw fail('use printable ASCII without spaces');
  if (raw.length < MIN_TOKEN_LENGTH) throw fail(`use at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32)`);
  return raw;
}

/** The limits of every numeric setting. */
function readLimits(env: Environment): Limits {
  return Object.fromEntries(Object.entries(NUMERIC_SETTINGS).map(([field, setting]) => [field, readNumber(env, setting)])) as unknown as Limits;
}

/**
 * CALLERS, or AUTH_TOKEN's one caller, or the anonymous one. Both set is refused rather than combined: a
 * leftover AUTH_TOKEN beside CALLERS would otherwise grant the service's whole reach to whoever holds it.
 */
function readCallersSetting(env: Environment): Callers {
  const raw = env.CALLERS ?? '';
  const token = readAuthToken(env);
  const limits = readLimits(env);
  if (raw.trim() === '') {
    const caller = { allowedTargets: undefined, limits };
    if (token === undefined) return { kind: 'open', caller: { ...caller, name: ANONYMOUS_CALLER_NAME, secrets: new Set<string>() } };
    return { kind: 'token', token, caller: { ...caller, name: TOKEN_CALLER_NAME, secrets: 'all' } };
  }
  if (token !== undefined) throw settingProblem('CALLERS', 'CALLERS and AUTH_TOKEN are both set; AUTH_TOKEN is the one-caller shorthand: unset it, or name its caller in CALLERS');
  return { kind: 'digests', callers: parseCallers(raw, limits, readSecretsSetting(env)) };
}

/** SECRETS; refused without authentication (CALLERS or AUTH_TOKEN), which would let anyone who reaches the service use them. */
function readSecretsSetting(env: Environment): SecretTable {
  const raw = env.SECRETS ?? '';
  const table = parseSecrets(raw);
  if (table.size > 0 && (env.CALLERS ?? '').trim() === '' && (env.AUTH_TOKEN ?? '') === '') {
    throw settingProblem('SECRETS', 'SECRETS is set without CALLERS or AUTH_TOKEN: secrets need authenticated callers');
  }
  return table;
}

function readDefaultTarget(env: Environment): DefaultTarget {
  const host = readDefaultHost(env);
  return { host, port: readDefaultPort(env), fallbackAddresses: readFallbacks(env, host) };
}

/** Checked with the same host parser as a caller's `host`, so a bad setting is the operator's 503, never the caller's 400. */
function readDefaultHost(env: Environment): string {
  const rawHost = env.DEFAULT_TARGET_HOST?.trim() || DEFAULT_TARGET_HOST;
  try {
    return parseHost(rawHost).host;
  } catch {
    throw invalidSetting('DEFAULT_TARGET_HOST', rawHost, expectedOf('DEFAULT_TARGET_HOST'));
  }
}

function readDefaultPort(env: Environment): number {
  const rawPort = env.DEFAULT_TARGET_PORT?.trim() || String(DEFAULT_TARGET_PORT);
  if (!isPort(rawPort)) throw invalidSetting('DEFAULT_TARGET_PORT', rawPort, expectedOf('DEFAULT_TARGET_PORT'));
  return Number(rawPort);
}

function readFallbacks(env: Environment, host: string): IpAddress[] {
  const rawFallbacks = env.DEFAULT_TARGET_FALLBACK_IPS ?? (host === DEFAULT_TARGET_HOST ? EXAMPLE_COM_FALLBACK_IPS : '');
  return parseAddressList('DEFAULT_TARGET_FALLBACK_IPS', rawFallbacks);
}

/** A comma-separated setting, each item read by `parseItem`; the first malformed item is config-invalid, named. */
function readList<T>(name: string, raw: string, parseItem: (item: string) => T | undefined, expected: string): T[] {
  return commaList(raw).map((item) => {
    const parsed = parseItem(item);
    if (parsed === undefined) throw new SettingError(name, expected, `setting ${name} has a malformed entry ${JSON.stringify(item)}: expected ${expected}`);
    return parsed;
  });
}

/** ALLOWED_TARGETS, DENIED_TARGETS or OWN_ADDRESSES: destination entries, each `ADDRESS:PORT`, `CIDR:PORT`, `[IPV6]:PORT` or `HOSTNAME:PORT`. */
export function parseEntries(name: 'ALLOWED_TARGETS' | 'DENIED_TARGETS' | 'OWN_ADDRESSES', raw: string): PolicyEntry[] {
  return readList(name, raw, parseEntry, expectedOf(name));
}

/** A comma-separated list of IP addresses in plain notation (dotted decimal or IPv6, brackets optional around IPv6). */
function parseAddressList(name: string, raw: string): IpAddress[] {
  return readList(name, raw, (item) => {
    const address = parseSettingIp(item);
    return address && canonicalAddress(address);
  }, expectedOf(name));
}

const DNS_MODES: readonly DnsMode[] = ['auto', 'system', 'tcp', 'udp'];

function readDns(env: Environment): DnsSettings {
  const rawMode = env.DNS_MODE?.trim() || String(settingEntry('DNS_MODE').defaultValue);
  const mode = DNS_MODES.find((m) => m === rawMode);
  if (!mode) throw invalidSetting('DNS_MODE', rawMode, expectedOf('DNS_MODE'));
  const servers = readDnsServers(env);
  if ((mode === 'tcp' || mode === 'udp') && servers.length === 0) {
    throw invalidSetting('DNS_MODE', rawMode, `auto or system while DNS_SERVERS is empty (${mode} needs DNS_SERVERS)`);
  }
  return { mode, servers };
}

function readDnsServers(env: Environment): SocketAddress[] {
  return readList('DNS_SERVERS', env.DNS_SERVERS ?? '', parseServer, expectedOf('DNS_SERVERS'));
}

/** `IP`, `IP:PORT`, `[IPV6]` or `[IPV6]:PORT`: a bare IPv6 address is refused, as its last group could be read as a port. */
function parseServer(entry: string): SocketAddress | undefined {
  const split = splitHostPort(entry);
  const address = split && parsePlainIp(split.host, split.bracketed);
  if (!split || !address || (split.port !== undefined && !isPort(split.port))) return undefined;
  return { address: canonicalAddress(address), port: split.port === undefined ? DNS_PORT : Number(split.port) };
}

/** ALLOWED_ORIGINS, ALLOWED_HOSTS and LISTEN_ADDRESS together. */
function readOrigins(env: Environment): RequestOrigins {
  const listen = readListenAddress(env);
  return { allowedOrigins: readAllowedOrigins(env), allowedHosts: readAllowedHosts(env), loopbackAddress: listen?.loopback ? listen.text : undefined };
}

/** ALLOWED_ORIGINS: origins exactly as a browser sends them (`scheme://host[:port]`, lower case, no default port, no path). */
function readAllowedOrigins(env: Environment): string[] {
  return readList('ALLOWED_ORIGINS', env.ALLOWED_ORIGINS ?? '', (item) => {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      return undefined;
    }
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item ? item : undefined;
  }, expectedOf('ALLOWED_ORIGINS'));
}

/** ALLOWED_HOSTS: host names (or IP literals, IPv6 in brackets) a loopback-bound server answers as Host besides loopback ones. */
function readAllowedHosts(env: Environment): string[] {
  return readList('ALLOWED_HOSTS', env.ALLOWED_HOSTS ?? '', (item) => {
    const { inner, bracketed } = unbracket(item);
    const address = parsePlainIp(inner, bracketed);
    if (address) return address.tag === 'ipv6' ? `[${inner.toLowerCase()}]` : inner;
    return bracketed ? undefined : parseHostName(item);
  }, expectedOf('ALLOWED_HOSTS'));
}

/**
 * LISTEN_ADDRESS: where the host listens (`IP`, `IP:PORT`, `[IPV6]:PORT`, `localhost[:PORT]`), set by the host
 * program, since a component cannot see it. Only whether it is loopback matters; undefined when unset.
 */
function readListenAddress(env: Environment): { text: string; loopback: boolean } | undefined {
  const text = env.LISTEN_ADDRESS?.trim() ?? '';
  if (text === '') return undefined;
  const fail = () => invalidSetting('LISTEN_ADDRESS', text, expectedOf('LISTEN_ADDRESS'));
  // A bare IPv6 address has no port: its last group could not be told from one.
  const bare = parsePlainIp(text);
  if (bare) return { text, loopback: isLoopback(bare) };
  const split = splitHostPort(text);
  if (!split || (split.port !== undefined && split.port !== '0' && !isPort(split.port))) throw fail();
  const address = parsePlainIp(split.host, split.bracketed);
  if (address) return { text, loopback: isLoopback(address) };
  if (split.bracketed || parseHostName(split.host) === undefined) throw fail();
  return { text, loopback: split.host.toLowerCase() === 'localhost' };
}
