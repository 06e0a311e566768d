// The one table of the component's settings: each declared once with its default, bounds, the form a message
// (and /ready) names, whether it is a secret and whether the Spin build reads it as a variable. config.ts reads
// every entry; the local host (host/), the Spin manifest, the Dockerfile and the README are checked against it.
// Plain JavaScript so that Node (the local host) imports it without a loader.

/**
 * A whole number written in decimal digits (at most 10), from `min` to `max`; undefined for anything else. The one
 * whole-number parser of the component and the local host: callers decide whether to trim first.
 * @param {string} text
 * @param {number} min
 * @param {number} max
 * @returns {number | undefined}
 */
export function parseWholeNumber(text, min, max) {
  if (!/^[0-9]{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

/** Every numeric setting, by the `Limits` field it fills: its variable, default and the hard bounds no configuration can pass. */
export const NUMERIC_SETTINGS = /** @type {const} */ ({
  connectTimeoutMs: { name: 'CONNECT_TIMEOUT_MS', defaultValue: 5_000, min: 1, max: 60_000, unit: 'ms' },
  requestDeadlineMs: { name: 'REQUEST_DEADLINE_MS', defaultValue: 30_000, min: 1, max: 120_000, unit: 'ms' },
  replyIdleMs: { name: 'REPLY_IDLE_MS', defaultValue: 200, min: 1, max: 10_000, unit: 'ms' },
  maxReplyBytes: { name: 'MAX_REPLY_BYTES', defaultValue: 1_048_576, min: 1, max: 16_777_216, unit: 'bytes' },
  maxMessageBytes: { name: 'MAX_MESSAGE_BYTES', defaultValue: 65_536, min: 0, max: 1_048_576, unit: 'bytes' },
  // UDP: datagrams sent, and datagrams received, by one request (each counted on its own): the cap on
  // amplification and floods beside the byte caps.
  maxDatagrams: { name: 'MAX_DATAGRAMS', defaultValue: 64, min: 1, max: 1_024, unit: 'datagrams' },
});

/**
 * The form a numeric setting must have, as its message states it.
 * @param {{ unit: string, min: number, max: number }} setting
 */
export function wholeNumberForm(setting) {
  return `a whole number of ${setting.unit} from ${setting.min} to ${setting.max}`;
}

/**
 * The items of a comma-separated setting, trimmed, empty ones dropped: the one list syntax of every setting.
 * @param {string} raw
 * @returns {string[]}
 */
export function commaList(raw) {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The form of a destination entry (ALLOWED_TARGETS, DENIED_TARGETS, OWN_ADDRESSES, a caller's allowed_targets, a secret's destinations), as net/policy.ts parses it. */
export const ENTRY_FORM = 'ADDRESS:PORT, CIDR:PORT (10.0.0.0/8:6379), [IPV6]:PORT, [IPV6/LEN]:PORT or HOSTNAME:PORT, with PORT 1-65535 or *';

/**
 * @typedef {object} SettingEntry
 * @property {string} name The environment variable (the Spin variable is its name in lowercase).
 * @property {string | number | undefined} defaultValue What an unset or empty setting means (undefined: nothing).
 * @property {string} expected The form a message about a malformed value names.
 * @property {boolean} secret Whether its value is never shown (in a message, a log or a reply).
 * @property {boolean} spinVariable Whether the Spin build reads it as a Spin variable.
 * @property {number} [min] Lowest value (numeric settings).
 * @property {number} [max] Highest value (numeric settings).
 * @property {string} [unit] Unit of a numeric setting.
 * @property {'whole-number' | 'own'} parser `whole-number`: parseWholeNumber within min and max; `own`: its reader in config.ts.
 */

/**
 * @param {{ name: string, defaultValue: number, min: number, max: number, unit: string }} setting
 * @returns {SettingEntry}
 */
function numeric(setting) {
  return { ...setting, expected: wholeNumberForm(setting), secret: false, spinVariable: true, parser: 'whole-number' };
}

/**
 * @param {string} name
 * @param {string} expected
 * @param {{ defaultValue?: string, secret?: boolean }} [options]
 * @returns {SettingEntry}
 */
function own(name, expected, { defaultValue, secret = false } = {}) {
  return { name, defaultValue, expected, secret, spinVariable: true, parser: 'own' };
}

/** Every setting the component reads, in the order the README documents them. */
export const SETTINGS = Object.freeze([
  own('DEFAULT_TARGET_HOST', 'a host name, an IPv4 address or a bracketed IPv6 address', { defaultValue: 'example.com' }),
  own('DEFAULT_TARGET_PORT', 'a port number from 1 to 65535', { defaultValue: '80' }),
  own('DEFAULT_TARGET_FALLBACK_IPS', 'comma-separated IP addresses such as 93.184.215.14,2606:2800:21f:cb07:6820:80da:af6b:8b2c'),
  numeric(NUMERIC_SETTINGS.connectTimeoutMs),
  numeric(NUMERIC_SETTINGS.requestDeadlineMs),
  numeric(NUMERIC_SETTINGS.replyIdleMs),
  numeric(NUMERIC_SETTINGS.maxReplyBytes),
  numeric(NUMERIC_SETTINGS.maxMessageBytes),
  numeric(NUMERIC_SETTINGS.maxDatagrams),
  own('ALLOWED_TARGETS', ENTRY_FORM),
  own('DENIED_TARGETS', ENTRY_FORM),
  own('OWN_ADDRESSES', ENTRY_FORM),
  own('AUTH_TOKEN', 'printable ASCII without spaces, at least 16 characters', { secret: true }),
  own('CALLERS', 'a JSON object naming each caller: {"NAME": {"token_sha256": "64 hex digits", "allowed_targets": "entries", "limits": {...}, "secrets": ["SECRET", ...]}}', { secret: true }),
  own('SECRETS', 'a JSON object naming each secret: {"NAME": {"value": "8 to 8192 bytes" or "value_base64": "...", "destinations": "entries", "require_tls": true or false}}', { secret: true }),
  own('DNS_SERVERS', 'comma-separated IP or IP:PORT entries with IPv6 in brackets, such as 1.1.1.1,9.9.9.9:53,[2606:4700:4700::1111]:53'),
  own('DNS_MODE', 'auto, system, tcp or udp', { defaultValue: 'auto' }),
  own('AUDIT_LOG', 'on or off', { defaultValue: 'on' }),
  own('TLS_CA_CERTS', 'PEM certificates (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----), one or more'),
  own('ALLOWED_ORIGINS', 'comma-separated origins as a browser sends them, scheme://host[:port] with no path, such as https://app.example.com,http://localhost:6274'),
  own('ALLOWED_HOSTS', 'comma-separated host names without a port, such as mcp.example.com (the Host a proxy in front of a loopback-bound server passes)'),
  own('LISTEN_ADDRESS', 'the address the server listens on: IP, IP:PORT, [IPV6]:PORT or localhost:PORT, such as 127.0.0.1:8081'),
]);

/**
 * The entry of `name`; throws for a name the table does not hold (a typo is a bug, not a setting).
 * @param {string} name
 * @returns {SettingEntry}
 */
export function settingEntry(name) {
  const entry = SETTINGS.find((s) => s.name === name);
  if (!entry) throw new Error(`no setting ${name} in src/settings/setting-table.js`);
  return entry;
}
