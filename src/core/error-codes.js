// The one table of error codes and their HTTP statuses, for the component and the local host alike (plain
// JavaScript so host/ imports it as is). Clients may switch on these codes; /openapi.json lists them all.

/**
 * Every code any host of this service can answer, with its status. The last group comes only from the local
 * host (host/), before or around the component: they are here so the document lists what a client may see.
 */
export const ERROR_STATUS = /** @type {const} */ ({
  'invalid-request': 400,
  'not-found': 404,
  'method-not-allowed': 405,
  'missing-parameter': 400,
  'invalid-parameter': 400,
  'invalid-json': 400,
  'invalid-body': 400,
  'body-too-large': 413,
  'duplicate-parameter': 400,
  'invalid-encoding': 400,
  'invalid-host': 400,
  'invalid-port': 400,
  'invalid-target': 400,
  'message-too-large': 413,
  'unauthorized': 401,
  'origin-denied': 403,
  'host-denied': 403,
  'destination-denied': 403,
  'secret-denied': 403,
  'name-unresolvable': 502,
  'lookup-refused': 502,
  'resolver-failure': 502,
  'connection-refused': 502,
  'host-unreachable': 502,
  'connection-reset': 502,
  'connection-aborted': 502,
  'network-denied-by-host': 502,
  'network-unsupported': 502,
  'network-error': 502,
  'socket-limit': 503,
  'connect-timeout': 504,
  'read-timeout': 504,
  'write-timeout': 504,
  'resolve-timeout': 504,
  'tls-certificate-invalid': 502,
  'tls-handshake-failed': 502,
  'tls-handshake-timeout': 504,
  'config-invalid': 503,
  'internal': 500,
  // Answered by the local host only.
  'uri-too-long': 414,
  'host-busy': 503,
  'host-closing': 503,
  'host-timeout': 504,
  'component-failed': 502,
});
