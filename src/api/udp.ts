// POST /udp/exchange and GET /udp/send: datagrams with one address, validated against the schema and the
// server's limits (datagram size, bytes and datagrams in all), run on one connected socket, answered as JSON
// (the exchange) or as the first reply's raw bytes (send).

import { type Schema, Validator } from '@cfworker/json-schema';
import { ServiceError } from '../core/errors.js';
import { jsonResponse } from '../http/responses.js';
import { type DatagramReply, type DatagramStep, MAX_DATAGRAM_BYTES } from '../net/datagrams.js';
import type { DatagramDialogue } from '../net/dial-datagrams.js';
import { DatagramFault } from '../net/datagram-network.js';
import type { Limits } from '../net/dialogue.js';
import { formatSocketAddress } from '../net/ip.js';
import { makeTarget, parsePort } from '../net/target.js';
import type { RequestContext } from './context.js';
import { type ByteValue, decodeValue, encodeValue, parseJson, readExchangeBody, toMs } from './exchange.js';
import { bounded, limitSource, limitsWithTimeout, wholeNumber } from './read-options.js';
import { schemaFailureMessage } from './schema-errors.js';
import { UDP_EXCHANGE_REQUEST_SCHEMA } from './udp-schema.js';

/** A request body that passed the schema. */
interface UdpExchangeRequest {
  host: string;
  port: number;
  timeout_ms?: number;
  steps: { send?: ByteValue[]; count?: number; idle_ms?: number }[];
}

export interface UdpExchangeAnswer {
  peer: string;
  steps: { datagrams: { reply: { text: string } | { base64: string }; bytes: number; ms: number }[]; end: DatagramReply['end']; ms: number }[];
  ms: number;
  ignored?: number;
}

const validator = new Validator(UDP_EXCHANGE_REQUEST_SCHEMA as unknown as Schema, '2020-12', false);

function validated(input: unknown): UdpExchangeRequest {
  const result = validator.validate(input);
  if (result.valid) return input as UdpExchangeRequest;
  throw new ServiceError('invalid-body', `${schemaFailureMessage(UDP_EXCHANGE_REQUEST_SCHEMA, result.errors, input)} (the schema is in GET /openapi.json)`);
}

/** Checks what a request sends against the datagram size and the request's caps (bytes, datagrams): each a 413. */
function checkSends(steps: readonly DatagramStep[], limits: Limits): void {
  let bytes = 0;
  let datagrams = 0;
  for (const [i, step] of steps.entries()) {
    for (const [j, datagram] of step.send.entries()) {
      if (datagram.length > MAX_DATAGRAM_BYTES) {
        throw new ServiceError('message-too-large', `steps/${i}/send/${j} is ${datagram.length} bytes; a UDP datagram holds at most ${MAX_DATAGRAM_BYTES}`);
      }
      bytes += datagram.length;
      if (bytes > limits.maxMessageBytes) {
        throw new ServiceError('message-too-large', `steps/${i}/send/${j} brings the bytes to send to ${bytes}; the limit for a whole exchange is ${limits.maxMessageBytes} bytes (${limitSource(limits, 'maxMessageBytes')})`);
      }
      if (++datagrams > limits.maxDatagrams) {
        throw new ServiceError('message-too-large', `steps/${i}/send/${j} is datagram ${datagrams} to send; the limit for a whole exchange is ${limits.maxDatagrams} (${limitSource(limits, 'maxDatagrams')})`);
      }
    }
  }
}

/** Where a step's collecting ends: `count`, `idle_ms`, both, or the server's quiet gap when neither is given. */
function collectOf(step: UdpExchangeRequest['steps'][number], limits: Limits, prefix: string): DatagramStep['collect'] {
  const collect: DatagramStep['collect'] = {};
  if (step.count !== undefined) collect.count = bounded(step.count, `${prefix}count`, limits, 'maxDatagrams', 'datagrams');
  if (step.idle_ms !== undefined) collect.idleMs = bounded(step.idle_ms, `${prefix}idle_ms`, limits, 'replyIdleMs', 'ms');
  else if (collect.count === undefined) collect.idleMs = limits.replyIdleMs;
  return collect;
}

function toStepResult(reply: DatagramReply): UdpExchangeAnswer['steps'][number] {
  return { datagrams: reply.datagrams.map((d) => ({ reply: encodeValue(d.bytes), bytes: d.bytes.length, ms: toMs(d.atMs) })), end: reply.end, ms: toMs(reply.ms) };
}

/** Runs a validated /udp/exchange body (the MCP tool's arguments too); a fault after the socket opened carries the steps before it. */
export function runUdpExchange(input: unknown, c: Pick<RequestContext, 'network' | 'limits' | 'dialDatagrams'>): UdpExchangeAnswer {
  const request = validated(input);
  const target = makeTarget(request.host, request.port);
  const limits = limitsWithTimeout(c.limits, request.timeout_ms);
  const steps: DatagramStep[] = request.steps.map((step, i) => ({ send: (step.send ?? []).map(decodeValue), collect: collectOf(step, limits, `steps/${i}/`) }));
  checkSends(steps, limits);
  const startedAt = c.network.nowMs();
  let dialogue: DatagramDialogue;
  try {
    dialogue = c.dialDatagrams(target, steps, limits);
  } catch (error) {
    const cause = error instanceof ServiceError ? error.cause : undefined;
    if (cause instanceof DatagramFault) throw (error as ServiceError).amended({ extra: { steps: cause.replies.map(toStepResult) } });
    throw error;
  }
  const { replies, address, ignored } = dialogue;
  return {
    peer: formatSocketAddress(address),
    steps: replies.map(toStepResult),
    ms: toMs(c.network.nowMs() - startedAt),
    ...(ignored > 0 && { ignored }),
  };
}

/** POST /udp/exchange — datagrams with one address (schema: udp-schema.ts). */
export async function udpExchange(c: RequestContext): Promise<Response> {
  const body = await readExchangeBody(c.request, c.limits.maxMessageBytes);
  return jsonResponse(runUdpExchange(parseJson(body), c));
}

/**
 * GET /udp/send — one datagram (`msg`, percent-decoded bytes, possibly empty) to host:port; the first datagram
 * that comes back, as raw bytes. It waits until the deadline (`timeout_ms`), or `idle_ms` when given.
 */
export function udpSend(c: RequestContext): Response {
  const { query } = c;
  const target = makeTarget(query.required('host', '127.0.0.1'), parsePort(query.required('port', '53')));
  const limits = limitsWithTimeout(c.limits, wholeNumber(query.get('timeout_ms'), 'timeout_ms'));
  const idle = wholeNumber(query.get('idle_ms'), 'idle_ms');
  const collect = { count: 1, ...(idle !== undefined && { idleMs: bounded(idle, 'idle_ms', limits, 'replyIdleMs', 'ms') }) };
  const steps = [{ send: [query.bytes('msg') ?? new Uint8Array(0)], collect }];
  checkSends(steps, limits);
  const deadline = `${limits.requestDeadlineMs} ms (${query.has('timeout_ms') ? 'timeout_ms' : limitSource(limits, 'requestDeadlineMs')})`;
  return firstDatagram(c.dialDatagrams(target, steps, limits), target.port, deadline);
}

/** The first reply's raw bytes with where it came from; none by the deadline (`deadline`, as a message names it) is a 504 read-timeout. */
function firstDatagram(dialogue: DatagramDialogue, port: number, deadline: string): Response {
  const reply = dialogue.replies[0]!;
  const first = reply.datagrams[0];
  const peer = formatSocketAddress(dialogue.address);
  if (!first) {
    const elsewhere = dialogue.ignored > 0 ? ` (${dialogue.ignored} came from other addresses and were dropped)` : '';
    throw new ServiceError('read-timeout', `no datagram came back from ${peer} before the ${reply.end === 'idle' ? 'quiet gap (idle_ms) ended' : `deadline of ${deadline}`}${elsewhere}; is anything answering on UDP port ${port}?`);
  }
  const headers = { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'x-reply-end': reply.end, 'x-peer-address': peer };
  return new Response(first.bytes, { status: 200, headers: reply.end === 'limit' ? { ...headers, 'x-truncated': 'true' } : headers });
}
