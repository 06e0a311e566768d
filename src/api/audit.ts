// The audit log: one JSON line for every request that opens or tries to open a connection, or that
// authentication or the destination policy refuses — who asked, for what, where it went, how it ended.

import type { Transcript } from '../net/transcript.js';

/** One line of the audit log. Never a token, a message or a reply: only their sizes. */
export interface AuditLine {
  /** Wall-clock time the request arrived, ISO 8601 in UTC. */
  time: string;
  route: string;
  method: string;
  /** `sha256:` and the first 16 hex digits of the SHA-256 of the bearer token presented, or `anonymous`. */
  caller: string;
  /** host:port as the caller asked for it, when the request named one. */
  target?: string;
  /** Every address a connection was tried to, in order. */
  tried?: string[];
  /** The address the dialogue ran on. */
  connected?: string;
  /** Where TLS is used: the protocol version and the server name sent (absent on plain TCP). */
  tls_version?: string;
  server_name?: string;
  /** The names of the secrets the dialogue sends (or was refused for sending), never their values. */
  secrets?: string[];
  /** Present when a reply had a secret's bytes replaced (an echo of a secret: worth a look when it repeats). */
  redacted?: true;
  /** `udp` for a dialogue of datagrams (absent on TCP, whose lines predate it). */
  protocol?: 'udp';
  /** Bytes sent and received on the connection. */
  sent?: number;
  received?: number;
  /** UDP: datagrams sent and received, and those dropped for coming from another address (only when there were any). */
  datagrams_sent?: number;
  datagrams_received?: number;
  datagrams_ignored?: number;
  /** How the last read ended (X-Reply-End). */
  end?: string;
  status: number;
  /** The error code, when the request (or the tool call, on /mcp) failed. */
  code?: string;
  /** Milliseconds from the request's arrival to its answer. */
  ms: number;
}

/** Paths whose every request is recorded: each opens, or tries to open, a connection. */
const CONNECTING_PATHS: ReadonlySet<string> = new Set(['/', '/tcp/send', '/tcp/exchange', '/udp/send', '/udp/exchange']);

/** Longest caller-given text kept in a line (a target, a path), so that a line stays a line of bounded size. */
const MAX_SHOWN = 300;

/** What one request did, collected as it runs: the transcript of each dialogue; its lines are made once the answer is known. */
export class AuditRecord {
  readonly #dialogues: Transcript[] = [];

  /** Keeps the transcript of a dialogue the request ran, in the order it ran them. */
  dialled(transcript: Transcript): void {
    this.#dialogues.push(transcript);
  }

  /** Whether the request is one the log records: it connects somewhere, tried to, or was refused by auth or policy. */
  wanted(path: string, status: number): boolean {
    return CONNECTING_PATHS.has(path) || this.#dialogues.length > 0 || status === 401 || status === 403;
  }

  /**
   * The lines for the request: one, or one per dialogue when a request ran several (tool calls in an MCP
   * batch), each with the request's time, route, caller and status. `asked` is the target the query named,
   * for a request refused before it dialled. The one place a transcript becomes a line.
   */
  lines(request: { time: string; route: string; method: string; caller: string; status: number; code: string | undefined; ms: number; asked: string | undefined }): AuditLine[] {
    const { time, route, method, caller, status, code, ms, asked } = request;
    const dialogues: Partial<Transcript>[] = this.#dialogues.length > 0 ? this.#dialogues : [asked ? { target: asked } : {}];
    // Members in a fixed order, so that the lines read alike; absent ones are left out.
    return dialogues.map(({ target, tried, protocol, secrets, redacted, connection: c, code: failed }) =>
      withoutUndefined({
        time,
        route,
        method,
        caller,
        target: target?.slice(0, MAX_SHOWN),
        tried: tried && [...tried],
        connected: c?.address,
        tls_version: c?.tls?.version,
        server_name: c?.tls?.serverName.slice(0, MAX_SHOWN),
        secrets: secrets && [...secrets],
        redacted,
        protocol,
        sent: c?.sent,
        received: c?.received,
        datagrams_sent: c?.datagrams?.sent,
        datagrams_received: c?.datagrams?.received,
        datagrams_ignored: c?.datagrams?.ignored || undefined,
        end: c?.ends.at(-1),
        status,
        code: failed ?? code,
        ms,
      }),
    );
  }
}

function withoutUndefined<T extends object>(line: T): T {
  return Object.fromEntries(Object.entries(line).filter(([, value]) => value !== undefined)) as T;
}

/** The request's path as a line shows it: bounded, as the caller may send anything. */
export const shownRoute = (path: string) => path.slice(0, MAX_SHOWN);

const encoder = new TextEncoder();

/** The caller as the log names it: a short fingerprint of the bearer token (SHA-256), never the token; `anonymous` without one. */
export async function callerOf(token: string | undefined): Promise<string> {
  if (token === undefined) return 'anonymous';
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token)));
  return `sha256:${[...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}
