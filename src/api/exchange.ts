// POST /tcp/exchange: a JSON dialogue, validated against its schema, run on one connection, answered as JSON.

import { type Schema, Validator } from '@cfworker/json-schema';
import { readBody } from '../http/body.js';
import { exchangeBodyLimit } from '../settings/bounds.js';
import { jsonResponse } from '../http/responses.js';
import type { RequestContext } from './context.js';
import { ServiceError } from '../core/errors.js';
import { SocketFault } from '../net/faults.js';
import { TlsFault } from '../net/tls/faults.js';
import { dialogueTls, type TlsOption } from './tls-options.js';
import { EXCHANGE_REQUEST_SCHEMA } from './exchange-schema.js';
import { schemaFailureMessage } from './schema-errors.js';
import { formatSocketAddress } from '../net/ip.js';
import { limitSource, limitsWithTimeout, type ReadOptions, readEndOf } from './read-options.js';
import { makeTarget } from '../net/target.js';
import type { NoRead, Reply, Step } from '../net/dialogue.js';
import { type Secret, SecretMessage, isBytes } from '../net/secrets.js';
import { concatBytes } from '../core/bytes.js';

/** Bytes in one of the three encodings of the schema. */
export type ByteValue = { text: string } | { base64: string } | { hex: string };
/** One part of a `send` given as a list: bytes, or a secret by name. */
type SendPart = ByteValue | { secret: string };

/** A request body that passed the schema. */
interface ExchangeRequest {
  host: string;
  port: number;
  timeout_ms?: number;
  tls?: TlsOption;
  steps: { starttls?: TlsOption; send?: ByteValue | SendPart[]; until?: ByteValue; bytes?: number; idle_ms?: number }[];
}

/** One step of the answer. */
export interface StepResult {
  reply: { text: string } | { base64: string };
  end: Reply['end'];
  bytes: number;
  ms: number;
  /** Whether bytes of a secret sent on the connection were replaced by its marker in `reply`. */
  redacted?: true;
}

export interface ExchangeAnswer {
  peer: string;
  steps: StepResult[];
  ms: number;
  /** Whether any reply had a secret's bytes replaced by its marker. */
  redacted?: true;
  /** What TLS agreed, from the step where it began. */
  tls?: { version: string; cipher: string; step: number };
}

const validator = new Validator(EXCHANGE_REQUEST_SCHEMA as unknown as Schema, '2020-12', false);
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The JSON body of a dialogue (POST /tcp/exchange, the MCP tool's call), at most `exchangeBodyLimit` bytes. */
export function readExchangeBody(request: Request, maxMessageBytes: number): Promise<Uint8Array> {
  return readBody(request, exchangeBodyLimit(maxMessageBytes), { code: 'body-too-large', name: 'the body', setting: 'twice MAX_MESSAGE_BYTES plus 64 KiB' });
}

/** Parses a JSON body; malformed JSON is a 400 `invalid-json`. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(strictUtf8.decode(bytes));
  } catch (cause) {
    throw new ServiceError('invalid-json', `the body is not valid JSON (UTF-8): ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * Validates `input` against the schema and the server's limits, then runs the dialogue. A fault after
 * the connection opened is thrown as the usual error, with the steps completed before it in `extra.steps`.
 */
export function runExchange(input: unknown, c: Pick<RequestContext, 'settings' | 'network' | 'dial' | 'limits' | 'secret'>): ExchangeAnswer {
  const config = c.settings;
  const request = validated(input);
  const target = makeTarget(request.host, request.port);
  const limits = limitsWithTimeout(c.limits, request.timeout_ms);
  let sendBytes = 0;
  const roots = () => config.tlsRoots;
  const implicit = dialogueTls(request.tls, target, roots, 'tls');
  // TLS starts once per connection: the schema lets no step upgrade after "tls", and at most one step upgrade.
  const steps: Step[] = request.steps.map((step, i) => {
    const send = step.send ? messageOf(step.send, `steps/${i}/send`, c) : new Uint8Array(0);
    sendBytes += send.length;
    if (sendBytes > limits.maxMessageBytes) {
      throw new ServiceError(
        'message-too-large',
        `steps/${i}/send brings the bytes to send to ${sendBytes}; the limit for a whole dialogue is ${limits.maxMessageBytes} bytes (${limitSource(limits, 'maxMessageBytes')})`,
      );
    }
    const until = step.until ? decodeValue(step.until) : undefined;
    const tls = i === 0 && implicit ? implicit : dialogueTls(step.starttls, target, roots, `steps/${i}/starttls`);
    const readOptions = { until, bytes: step.bytes, idleMs: step.idle_ms };
    const read = readsNothing(step, send, readOptions) ? NO_READ : readEndOf(readOptions, limits, `steps/${i}/`);
    return { ...(tls && { tls }), send, read };
  });
  const startedAt = c.network.nowMs();
  try {
    const { replies, address } = c.dial(target, steps, limits);
    const answer: ExchangeAnswer = { peer: formatSocketAddress(address), steps: replies.map(toStepResult), ms: toMs(c.network.nowMs() - startedAt) };
    const tlsStep = replies.findIndex((reply) => reply.tls);
    if (tlsStep !== -1) answer.tls = { ...replies[tlsStep]!.tls!, step: tlsStep };
    if (replies.some((reply) => reply.redacted)) answer.redacted = true;
    return answer;
  } catch (error) {
    const cause = error instanceof ServiceError ? error.cause : undefined;
    if (cause instanceof SocketFault || cause instanceof TlsFault) throw (error as ServiceError).amended({ extra: { steps: cause.replies.map(toStepResult) } });
    throw error;
  }
}

const NO_READ: NoRead = { none: true };

/**
 * Whether a step reads nothing: a `starttls` step that sends nothing and gives no read end. A STARTTLS server
 * sends nothing after the handshake until the client speaks; waiting for it would only meet the deadline.
 */
function readsNothing(step: ExchangeRequest['steps'][number], send: Step['send'], read: ReadOptions): boolean {
  return step.starttls !== undefined && send.length === 0 && read.until === undefined && read.bytes === undefined && read.idleMs === undefined;
}

/** A duration as answered: milliseconds to the microsecond. */
export const toMs = (ms: number) => Math.round(ms * 1000) / 1000;

function toStepResult(reply: Reply): StepResult {
  return { reply: encodeValue(reply.bytes), end: reply.end, bytes: reply.bytes.length, ms: toMs(reply.ms), ...(reply.redacted && { redacted: true }) };
}

/**
 * A step's `send` as the dialogue sends it: bytes, or, when a list of parts names a secret, a message put
 * together only as it is sent. Each secret named must be one the caller may use (`c.secret`).
 */
function messageOf(send: ByteValue | SendPart[], where: string, c: Pick<RequestContext, 'secret'>): Uint8Array | SecretMessage {
  if (!Array.isArray(send)) return decodeValue(send);
  const parts: (Uint8Array | Secret)[] = send.map((part, j) => ('secret' in part ? c.secret(part.secret, `${where}/${j}`) : decodeValue(part)));
  if (!parts.every(isBytes)) return new SecretMessage(parts);
  const chunks = parts as Uint8Array[];
  return concatBytes(chunks, chunks.reduce((sum, chunk) => sum + chunk.length, 0));
}

function validated(input: unknown): ExchangeRequest {
  const result = validator.validate(input);
  if (result.valid) return input as ExchangeRequest;
  throw new ServiceError('invalid-body', `${schemaFailureMessage(EXCHANGE_REQUEST_SCHEMA, result.errors, input)} (the schema is in GET /openapi.json)`);
}

/** Bytes from one of the schema's three encodings. */
export function decodeValue(value: ByteValue): Uint8Array {
  if ('text' in value) return utf8.encode(value.text);
  if ('hex' in value) {
    const bytes = new Uint8Array(value.hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(value.hex.slice(2 * i, 2 * i + 2), 16);
    return bytes;
  }
  const binary = atob(value.base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `text` when the bytes are valid UTF-8, else `base64`. */
export function encodeValue(bytes: Uint8Array): { text: string } | { base64: string } {
  try {
    return { text: strictUtf8.decode(bytes) };
  } catch {
    let binary = '';
    for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return { base64: btoa(binary) };
  }
}

/** POST /tcp/exchange — a JSON dialogue on one connection (schema: exchange-schema.ts). */
export async function tcpExchange(c: RequestContext): Promise<Response> {
  const body = await readExchangeBody(c.request, c.limits.maxMessageBytes);
  return jsonResponse(runExchange(parseJson(body), c));
}
