// The names of the component's settings, in one list for everything that needs it: the Spin build reads
// each as a Spin variable, the local host (host/settings.mjs) forwards exactly these into the component.
// Plain JavaScript so that Node runs it without a loader; test/unit/sources.test.ts checks it against the
// names src/ reads.

/** Every setting the component reads, as environment variable names; the Spin variable is the name in lowercase. */
export const COMPONENT_SETTINGS = Object.freeze(
  /** @type {const} */ ([
    'DEFAULT_TARGET_HOST',
    'DEFAULT_TARGET_PORT',
    'DEFAULT_TARGET_FALLBACK_IPS',
    'CONNECT_TIMEOUT_MS',
    'REQUEST_DEADLINE_MS',
    'REPLY_IDLE_MS',
    'MAX_REPLY_BYTES',
    'MAX_MESSAGE_BYTES',
    'ALLOWED_TARGETS',
    'DENIED_TARGETS',
    'OWN_ADDRESSES',
    'AUTH_TOKEN',
    'DNS_SERVERS',
    'DNS_MODE',
    'AUDIT_LOG',
    'TLS_CA_CERTS',
    'ALLOWED_ORIGINS',
    'ALLOWED_HOSTS',
    'LISTEN_ADDRESS',
  ]),
);
