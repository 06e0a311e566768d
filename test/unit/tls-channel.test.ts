// The TLS layer (src/net/tls/channel.ts, session.ts) driven on the virtual clock with a scripted engine: the
// handshake and its deadline, plaintext through the read loop (limits on plaintext, buffered plaintext read
// without waiting on the socket), engine failures as TlsFault, and a released session refusing use.
// The real engine runs in test/e2e/tls.test.ts on every host.

import { describe, expect, test } from 'vitest';
import type { ReadEnd } from '../../src/net/dialogue.js';
import { Reader } from '../../src/net/reply-reader.js';
import { Resources } from '../../src/core/resources.js';
import { TlsChannel } from '../../src/net/tls/channel.js';
import { type EngineSession, type Status, type TlsEngine, TlsEngineFailure, TlsSetupRefused } from '../../src/net/tls/engine.js';
import { TlsFault, fromTlsFault } from '../../src/net/tls/faults.js';
import { SocketFault } from '../../src/net/faults.js';
import { TlsSession } from '../../src/net/tls/session.js';
import { type PeerEvent, fakeInput, fakeOutput, fakePollHost } from '../support/fake-poll.js';
import { Connection, runSteps, timer } from '../../src/net/connection.js';
import type { Reply, Step } from '../../src/net/dialogue.js';

const NS_PER_MS = 1_000_000n;
/** A pollable of the virtual clock. */
type FakePollable = ReturnType<ReturnType<typeof fakePollHost>['subscribeDuration']>;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);

/**
 * A stand-in engine with a toy protocol: the client's hello is `CH`; the server's `SH` ends the handshake
 * (the client answers `FIN`); after it, ciphertext is plaintext, at most `feedLimit` bytes taken per call
 * (as the real engine takes less while plaintext waits); `!` during the handshake is an expired certificate.
 */
function scriptedEngine(feedLimit = 1 << 20) {
  const sent: string[] = [];
  let released = 0;
  const engine: TlsEngine = {
    checkRoots: () => 0,
    openSession(): EngineSession {
      let state: Status['state'] = 'handshaking';
      let outgoing = 'CH';
      let plaintext = '';
      let seen = '';
      const status = (): Status => ({ state, outgoingBytes: outgoing.length, plaintextBytes: plaintext.length });
      return {
        feed(ciphertext) {
          let taken = 0;
          const input = text(ciphertext);
          if (state === 'handshaking') {
            for (const c of input) {
              taken++;
              if (c === '!') throw new TlsEngineFailure({ tag: 'certificate', val: { tag: 'expired' } });
              seen += c;
              if (seen.endsWith('SH')) {
                state = 'established';
                outgoing += 'FIN';
                break;
              }
            }
          }
          const room = Math.min(feedLimit, input.length - taken);
          plaintext += input.slice(taken, taken + room);
          return [taken + room, status()];
        },
        takeOutgoing(max) {
          const out = outgoing.slice(0, max);
          outgoing = outgoing.slice(out.length);
          if (out) sent.push(out);
          return bytes(out);
        },
        write(p) {
          outgoing += `E:${text(p)}`;
          return p.length;
        },
        read(max) {
          const out = plaintext.slice(0, max);
          plaintext = plaintext.slice(out.length);
          return bytes(out);
        },
        status,
        close() {
          outgoing += 'BYE';
        },
        protocolVersion: () => 'TLSv1.3',
        cipherSuite: () => 'TLS_AES_128_GCM_SHA256',
        [Symbol.dispose]: () => released++,
      };
    },
  };
  return { engine, sent, released: () => released };
}

function setup(events: PeerEvent[], feedLimit?: number) {
  const host = fakePollHost();
  const input = fakeInput(host, events);
  const scripted = scriptedEngine(feedLimit);
  const resources = new Resources();
  const session = resources.hold(TlsSession.open(scripted.engine, 'peer.test', ''));
  const channel = new TlsChannel<FakePollable>(session, { read: (len) => input.read(len), subscribe: () => input.subscribe(), send: (b) => scripted.sent.push(`>${text(b)}`) });
  const deadline = resources.hold(host.subscribeDuration(1_000n * NS_PER_MS));
  const handshake = () => channel.handshake(host, resources.hold(input.subscribe()), deadline);
  return { host, input, scripted, resources, session, channel, deadline, handshake };
}

describe('TlsChannel.handshake', () => {
  test('sends the hello, feeds the answer, sends the finish, and reports what was agreed', () => {
    const t = setup([{ atMs: 10, send: 'SH' }]);
    expect(t.handshake()).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
    expect(t.scripted.sent.filter((s) => s.startsWith('>'))).toEqual(['>CH', '>FIN']);
    expect(t.host.nowMs()).toBe(10);
  });

  test('the deadline during the handshake is a timeout fault, at the deadline', () => {
    const t = setup([{ atMs: 5_000, send: 'SH' }]);
    expect(() => t.handshake()).toThrow(expect.objectContaining({ failure: { kind: 'timeout' } }));
    expect(t.host.nowMs()).toBe(1_000);
  });

  test('the peer closing during the handshake is a closed fault', () => {
    const t = setup([{ atMs: 3, send: 'S' }, { atMs: 4, close: true }]);
    expect(() => t.handshake()).toThrow(expect.objectContaining({ failure: { kind: 'closed' } }));
  });

  test("the engine's certificate problem becomes a TlsFault that maps to 502 tls-certificate-invalid", () => {
    const t = setup([{ atMs: 1, send: 'S!' }]);
    let fault: unknown;
    try {
      t.handshake();
    } catch (error) {
      fault = error;
    }
    expect(fault).toBeInstanceOf(TlsFault);
    const mapped = fromTlsFault(fault as TlsFault, '127.0.0.1:443', 'peer.test');
    expect([mapped.status, mapped.code]).toEqual([502, 'tls-certificate-invalid']);
    expect(mapped.message).toContain('"peer.test"');
    expect(mapped.message).toContain('expired');
  });
});

describe('TlsChannel as the read loop\'s stream', () => {
  const read = (t: ReturnType<typeof setup>, spec: ReadEnd, cap = 1_000) => {
    const reader = new Reader(t.host, t.resources, t.channel, t.deadline);
    const { bytes: b, end } = reader.read(spec, cap);
    return { text: text(b), end };
  };

  test('plaintext that came with the last handshake message is read without waiting on the socket', () => {
    const t = setup([{ atMs: 1, send: 'SH220 hello\r\n' }]);
    t.handshake();
    expect(read(t, { until: bytes('\r\n') })).toEqual({ text: '220 hello\r\n', end: 'until' });
    expect(t.host.nowMs()).toBe(1);
  });

  test('ciphertext the engine did not take yet is fed on the next read, and until spans the pieces', () => {
    const t = setup([{ atMs: 1, send: 'SH' }, { atMs: 2, send: 'abcdefghijEND' }], 3);
    t.handshake();
    expect(read(t, { until: bytes('END') })).toEqual({ text: 'abcdefghijEND', end: 'until' });
  });

  test('the reply cap counts plaintext', () => {
    const t = setup([{ atMs: 1, send: 'SH' }, { atMs: 2, send: 'x'.repeat(50) }], 7);
    t.handshake();
    expect(read(t, { idleMs: 100 }, 20)).toEqual({ text: 'x'.repeat(20), end: 'limit' });
  });

  test('the socket closing ends the reply as closed, after the plaintext already received', () => {
    const t = setup([{ atMs: 1, send: 'SH' }, { atMs: 2, send: 'bye' }, { atMs: 3, close: true }]);
    t.handshake();
    expect(read(t, { idleMs: 100 })).toEqual({ text: 'bye', end: 'closed' });
  });

  test('a write goes through the engine; close sends close_notify', () => {
    const t = setup([{ atMs: 1, send: 'SH' }]);
    t.handshake();
    t.channel.write(bytes('PING'));
    t.channel.close();
    expect(t.scripted.sent.filter((s) => s.startsWith('>')).slice(-2)).toEqual(['>E:PING', '>BYE']);
  });
});

describe('TlsSession', () => {
  test('is released once, and a call after release is an error, not a trap', () => {
    const t = setup([{ atMs: 1, send: 'SH' }]);
    t.resources[Symbol.dispose]();
    t.session[Symbol.dispose]();
    expect(t.scripted.released()).toBe(1);
    expect(() => t.session.status()).toThrow('TLS session used after it was released');
  });

  test("the engine's setup error (a bad server name, bad roots) is a setup fault", () => {
    const engine: TlsEngine = {
      checkRoots: () => 0,
      openSession: () => {
        throw new TlsSetupRefused({ tag: 'invalid-roots', val: 'certificate 1: a BEGIN line has no matching END line' });
      },
    };
    expect(() => TlsSession.open(engine, 'x.test', 'junk')).toThrow(expect.objectContaining({ failure: { kind: 'setup', problem: { tag: 'invalid-roots', val: expect.any(String) } } }));
  });
});

describe('runSteps with a STARTTLS step', () => {
  const line = (send: string): Step => ({ send: bytes(send), read: { until: bytes('\n') } });
  const dialogue: Step[] = [line(''), line('STARTTLS\n'), { tls: { serverName: 'mail.test', extraRootsPem: '' }, ...line('EHLO\n') }];

  function run(events: PeerEvent[], steps: Step[] = dialogue) {
    const host = fakePollHost();
    const input = fakeInput(host, events);
    const output = fakeOutput(host, { bufferBytes: 65_536 });
    const { engine, sent } = scriptedEngine();
    let result: { replies?: Reply[]; fault?: unknown } = {};
    {
      using resources = new Resources();
      const deadline = resources.hold(timer(host, 1_000));
      try {
        result = { replies: runSteps(new Connection({ host, resources, deadline, streams: { input, output }, tls: engine }), steps, { maxReplyBytes: 1_000 }) };
      } catch (fault) {
        result = { fault };
      }
    }
    expect(host.created.filter((p) => !p.disposed)).toHaveLength(0);
    return { ...result, sent, received: output.received() };
  }

  test('plaintext steps, then TLS on the same connection: the reply of the upgraded step names what TLS agreed', () => {
    const { replies, sent, received } = run([{ atMs: 1, send: '220 ready\n' }, { atMs: 5, send: '220 go\n' }, { atMs: 8, send: 'SH' }, { atMs: 10, send: '250 hi\n' }]);
    expect(replies!.map((r) => text(r.bytes))).toEqual(['220 ready\n', '220 go\n', '250 hi\n']);
    expect(replies!.map((r) => r.tls)).toEqual([undefined, undefined, { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }]);
    // The command in plaintext, then the hello, the finish, the encrypted command and close_notify.
    expect(sent).toEqual(['CH', 'FIN', 'E:EHLO\n', 'BYE']);
    expect(received).toBe('STARTTLS\nCHFINE:EHLO\nBYE'.length);
  });

  const upgrade = (read: Step['read']): Step => ({ tls: { serverName: 'mail.test', extraRootsPem: '' }, send: bytes(''), read });
  const SERVER_TALKS_FIRST = [{ atMs: 1, send: '220 ready\n' }, { atMs: 5, send: '220 go\n' }, { atMs: 8, send: 'SH' }, { atMs: 10, send: '250 hi\n' }];

  test('a starttls step of its own that reads nothing: the handshake, then the next step sends and reads', () => {
    const { replies, sent } = run(SERVER_TALKS_FIRST, [line(''), line('STARTTLS\n'), upgrade({ none: true }), line('EHLO\n')]);
    expect(replies!.map((r) => [text(r.bytes), r.end])).toEqual([['220 ready\n', 'until'], ['220 go\n', 'until'], ['', 'none'], ['250 hi\n', 'until']]);
    expect(replies![2]!.tls).toEqual({ version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
    expect(sent).toEqual(['CH', 'FIN', 'E:EHLO\n', 'BYE']);
  });

  test('a starttls step that waits for a reply the server never sends is a read deadline that knows TLS started there', () => {
    const { fault } = run(SERVER_TALKS_FIRST.slice(0, 3), [line(''), line('STARTTLS\n'), upgrade({ until: bytes('\n') })]);
    expect(fault).toBeInstanceOf(SocketFault);
    expect([(fault as SocketFault).stage, (fault as SocketFault).code, (fault as SocketFault).tlsFromStep]).toEqual(['read', 'deadline', 2]);
    expect((fault as SocketFault).replies.map((r) => text(r.bytes))).toEqual(['220 ready\n', '220 go\n']);
  });

  test('bytes after the last plaintext reply fail the upgrade before any hello is sent (STARTTLS injection)', () => {
    const { fault, sent, received } = run([{ atMs: 1, send: '220 ready\n' }, { atMs: 5, send: '220 go\n250 forged\n' }]);
    expect(fault).toBeInstanceOf(TlsFault);
    expect((fault as TlsFault).failure).toEqual({ kind: 'injection', bytes: 11 });
    expect((fault as TlsFault).replies.map((r) => text(r.bytes))).toEqual(['220 ready\n', '220 go\n']);
    expect(sent).toEqual([]);
    expect(received).toBe('STARTTLS\n'.length);
  });
});
