import { describe, expect, test, vi } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { SocketFault, fromSocketFault, type WasiSocketErrorCode } from '../../src/net/faults.js';
import { errorResponse } from '../../src/http/responses.js';
import type { Reply } from '../../src/net/dialogue.js';

// Every wasi:sockets error code and the status it must map to: a code missing here fails to compile.
const WASI_CODE_MAPPING = {
  'unknown': [502, 'network-error'],
  'access-denied': [502, 'network-denied-by-host'],
  'not-supported': [502, 'network-unsupported'],
  'invalid-argument': [400, 'invalid-target'],
  'out-of-memory': [503, 'socket-limit'],
  'timeout': [504, 'connect-timeout'],
  'concurrency-conflict': [500, 'internal'],
  'not-in-progress': [500, 'internal'],
  'would-block': [500, 'internal'],
  'invalid-state': [500, 'internal'],
  'new-socket-limit': [503, 'socket-limit'],
  'address-not-bindable': [503, 'socket-limit'],
  'address-in-use': [503, 'socket-limit'],
  'remote-unreachable': [502, 'host-unreachable'],
  'connection-refused': [502, 'connection-refused'],
  'connection-reset': [502, 'connection-reset'],
  'connection-aborted': [502, 'connection-aborted'],
  'datagram-too-large': [500, 'internal'],
  'name-unresolvable': [502, 'name-unresolvable'],
  'temporary-resolver-failure': [502, 'resolver-failure'],
  'permanent-resolver-failure': [502, 'lookup-refused'],
} as const satisfies Record<WasiSocketErrorCode, [number, string]>;
const WASI_CODES = Object.entries(WASI_CODE_MAPPING).map(([code, [status, mapped]]) => [code as WasiSocketErrorCode, status, mapped] as const);

describe('fromSocketFault(fault, target, address)', () => {
  test('the table covers every code of wasi:sockets/network.error-code in the vendored WIT', async () => {
    const { readFile } = await import('node:fs/promises');
    const wit = await readFile(new URL('../../wit/deps/sockets-0.2.12/package.wit', import.meta.url), 'utf8');
    const body = /enum error-code \{([^}]*)\}/.exec(wit)?.[1] ?? '';
    const codes = body.split(',').map((s) => s.trim()).filter(Boolean);
    expect(codes.sort()).toEqual(WASI_CODES.map(([c]) => c).sort());
  });

  test.each(WASI_CODES)('%s → %i %s', (code, status, mapped) => {
    const error = fromSocketFault(new SocketFault('connect', code), 'example.com:80', '93.184.215.14:80');
    expect(error.status).toBe(status);
    expect(error.code).toBe(mapped);
    expect(error.cause).toBeInstanceOf(SocketFault);
  });

  const STAGE_TIMEOUTS = [
    ['resolve', 'resolve-timeout'],
    ['connect', 'connect-timeout'],
    ['write', 'write-timeout'],
    ['read', 'read-timeout'],
  ] as const;
  // Our own deadline and a timeout the host reports mean the same to a client: that stage took too long.
  test.each((['deadline', 'timeout'] as const).flatMap((kind) => STAGE_TIMEOUTS.map(([stage, code]) => [kind, stage, code] as const)))(
    'a %s during %s → 504 %s',
    (kind, stage, code) => {
      const error = fromSocketFault(new SocketFault(stage, kind), 'example.com:80');
      expect(error.status).toBe(504);
      expect(error.code).toBe(code);
      expect(error.message).toContain('example.com:80');
    },
  );

  const TLS = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' };
  const replied = (text: string, tls?: typeof TLS): Reply => ({ bytes: new TextEncoder().encode(text), end: text === '' ? 'none' : 'until', ms: 1, ...(tls && { tls }) });
  const STARTTLS_HINT =
    ': a STARTTLS server says nothing after the handshake until the client speaks; send the next command in the step that waits (a starttls step that sends nothing and gives no until, bytes or idle_ms does not wait)';
  test.each([
    ['the first read', [], undefined, 'mail.test:25 accepted the connection but sent nothing before the deadline (REQUEST_DEADLINE_MS)'],
    ['the first read over implicit TLS', [], 0, 'mail.test:25 completed the TLS handshake but sent nothing before the deadline (REQUEST_DEADLINE_MS)'],
    ['a later plaintext read', [replied('220 hi\r\n')], undefined, 'mail.test:25 sent nothing for steps/1 (after 8 bytes in 1 step before) before the deadline (REQUEST_DEADLINE_MS)'],
    [
      'the starttls step, waiting after the handshake',
      [replied('220 hi\r\n'), replied('220 go\r\n')],
      2,
      `mail.test:25 sent nothing after TLS started at steps/2 (its 16 bytes in 2 steps before came before the upgrade), waiting for steps/2 before the deadline (REQUEST_DEADLINE_MS)${STARTTLS_HINT}`,
    ],
    [
      'a step after a starttls step that read nothing',
      [replied('220 hi\r\n'), replied('220 go\r\n'), replied('', TLS)],
      2,
      `mail.test:25 sent nothing after TLS started at steps/2 (its 16 bytes in 3 steps before came before the upgrade), waiting for steps/3 before the deadline (REQUEST_DEADLINE_MS)${STARTTLS_HINT}`,
    ],
    [
      'a read after replies over TLS',
      [replied('220 hi\r\n'), replied('250 ok\r\n', TLS)],
      1,
      'mail.test:25 sent nothing for steps/2 (after 16 bytes in 2 steps before, over TLS since steps/1) before the deadline (REQUEST_DEADLINE_MS)',
    ],
  ] as const)('a read deadline on %s says what the peer did before', (_, replies, tlsFromStep, message) => {
    const fault = new SocketFault('read', 'deadline');
    fault.replies = [...replies];
    fault.tlsFromStep = tlsFromStep;
    const error = fromSocketFault(fault, 'mail.test:25');
    expect([error.code, error.message]).toEqual(['read-timeout', message]);
  });

  test('messages name the target and the address used', () => {
    const error = fromSocketFault(new SocketFault('connect', 'connection-refused'), 'example.com:80', '93.184.215.14:80');
    expect(error.message).toContain('example.com:80 (93.184.215.14:80)');
  });
});

describe('errorResponse(error)', () => {
  test('a service error keeps its status, code and headers', async () => {
    const response = errorResponse(new ServiceError('method-not-allowed', 'GET only', { headers: { allow: 'GET' } }));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
    expect(await response.json()).toEqual({ error: { code: 'method-not-allowed', message: 'GET only' } });
  });

  test('anything else is a generic 500 that does not leak its message, and is logged with its cause', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const cause = new Error('secret detail');
      const response = errorResponse(cause);
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('internal');
      expect(body.error.message).not.toContain('secret');
      expect(logged).toHaveBeenCalledOnce();
      expect(logged).toHaveBeenCalledWith('ai-agent-sockets internal error:', cause);
    } finally {
      logged.mockRestore();
    }
  });

  test('a known error is not logged: it answers the client, it is no fault of the service', () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      errorResponse(new ServiceError('not-found', 'no such path'));
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });
});
