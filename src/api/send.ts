// GET / and GET/POST /tcp/send: one message on one connection, the raw reply bytes as the answer.

import { ServiceError } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { type TooLarge, readBody, tooLargeError } from '../http/body.js';
import type { Query } from '../http/query.js';
import { formatSocketAddress } from '../net/ip.js';
import type { Dialogue } from '../net/dial.js';
import { formatTarget, makeTarget, parsePort, type Target } from '../net/target.js';
import type { RequestContext } from './context.js';
import { limitSource, limitsWithTimeout, readEndOf, untilText, wholeNumber } from './read-options.js';
import type { TlsStart } from '../net/dialogue.js';
import type { Config } from '../settings/config.js';
import { queryTls, tlsStart } from './tls-options.js';

/** GET / — an HTTP/1.1 GET (HTTPS with `tls=true`) to the default target, or to `?host=&port=`; returns the raw reply. */
export function httpGet(c: RequestContext): Response {
  const { query } = c;
  const host = query.get('host');
  const port = query.get('port');
  const secure = queryTls(query);
  const defaultPort = secure ? 443 : 80;
  let target: Target;
  if (host === undefined || host === '') {
    const defaults = c.settings.defaultTarget;
    target = makeTarget(defaults.host, port === undefined ? (secure ? defaultPort : defaults.port) : parsePort(port));
  } else {
    target = makeTarget(host, port === undefined ? defaultPort : parsePort(port));
  }
  const config = c.settings;
  const tls = tlsOf(query, secure, target, config);
  const authority = target.port === defaultPort ? formatTarget(target).replace(new RegExp(`:${defaultPort}$`), '') : formatTarget(target);
  const request = `GET / HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: ai-agent-sockets/${VERSION}\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
  const read = { idleMs: c.limits.replyIdleMs };
  return replyResponse(c.dial(target, [{ tls, send: new TextEncoder().encode(request), read }], c.limits));
}

/** The TLS start a query asks for (`secure`: `tls=true` or a `server_name=`), with its server name. */
function tlsOf(query: Query, secure: boolean, target: Target, config: Config): TlsStart | undefined {
  return secure ? tlsStart(target, query.get('server_name'), config.tlsRoots, 'server_name') : undefined;
}

/**
 * GET and POST /tcp/send — connect to host:port, send `msg` (percent-decoded bytes; GET) or the body (POST),
 * read a reply that ends as `until` / `bytes` / `idle_ms` say, within `timeout_ms`; return its raw bytes.
 */
export async function tcpSend(c: RequestContext): Promise<Response> {
  const { request, query } = c;
  const target = makeTarget(query.required('host', '127.0.0.1'), parsePort(query.required('port', '6379')));
  const config = c.settings;
  const tls = tlsOf(query, queryTls(query), target, config);
  const limits = limitsWithTimeout(c.limits, wholeNumber(query.get('timeout_ms'), 'timeout_ms'));
  const read = readEndOf(
    { until: untilText(query.bytes('until')), bytes: wholeNumber(query.get('bytes'), 'bytes'), idleMs: wholeNumber(query.get('idle_ms'), 'idle_ms') },
    limits,
  );
  const tooLarge = (name: string): TooLarge => ({ code: 'message-too-large', name, setting: limitSource(limits, 'maxMessageBytes') });
  let message: Uint8Array;
  if (request.method === 'POST') {
    // One place for the message per method, so that no combination of the two needs a rule of its own.
    if (query.has('msg')) throw new ServiceError('invalid-parameter', 'POST /tcp/send sends its request body: give the message as the body (msg is for GET)');
    message = await readBody(request, limits.maxMessageBytes, tooLarge('the body'));
  } else {
    message = query.bytes('msg') ?? new Uint8Array(0);
    if (message.length > limits.maxMessageBytes) throw tooLargeError(tooLarge('the message'), String(message.length), limits.maxMessageBytes);
  }
  return replyResponse(c.dial(target, [{ tls, send: message, read }], limits));
}


/** The reply's raw bytes, with where it ended and where it came from in headers. */
function replyResponse(exchange: Dialogue): Response {
  const reply = exchange.replies[0]!;
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'cache-control': 'no-store',
    'x-reply-end': reply.end,
    'x-peer-address': formatSocketAddress(exchange.address),
  };
  if (reply.end === 'limit') headers['x-truncated'] = 'true';
  if (reply.tls) {
    headers['x-tls-version'] = reply.tls.version;
    headers['x-tls-cipher'] = reply.tls.cipher;
  }
  return new Response(reply.bytes, { status: 200, headers });
}
