// Adapts wasi:http (incoming-request, response-outparam) to a web Request → Response function.

import {
  Fields,
  IncomingBody,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
  type IncomingRequest,
  type Method,
} from 'wasi:http/types@0.2.10';
import type { StreamError } from 'wasi:io/streams@0.2.12';
import { ServiceError } from '../core/errors.js';
import { errorResponse } from '../http/responses.js';
import { setArrivedHost } from '../http/origin.js';
import { wasiPayload } from './payload.js';
import { Resources } from '../core/resources.js';
import { blockingWriteAll } from './blocking-write.js';

/** Largest read of a request body per call: a reader over its cap stops after at most one of these. */
const BODY_READ_CHUNK_BYTES = 65_536;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function methodName(method: Method): string {
  return method.tag === 'other' ? method.val : method.tag.toUpperCase();
}

/**
 * Builds a web Request. The URL's authority is fixed: the inbound Host header never reaches routing,
 * and a path such as `//evil.example/x` stays a path.
 */
function toRequest(incoming: IncomingRequest, held: Resources): Request {
  const method = methodName(incoming.method());
  const pathWithQuery = incoming.pathWithQuery() ?? '/';
  const path = pathWithQuery.startsWith('/') ? pathWithQuery : `/${pathWithQuery}`;
  const pairs = headerPairs(incoming);
  const body = method === 'GET' || method === 'HEAD' ? undefined : bodyStream(incoming, held);
  const url = `http://component.local${path}`;
  let request: Request;
  try {
    // The list as it is: the Request builds its headers from it once.
    request = new Request(url, { method, headers: pairs, body, duplex: 'half' } as RequestInit);
  } catch {
    // The web Headers class refused a header, which is one the app has no use for: keep those it accepts.
    request = new Request(url, { method, headers: acceptedHeaders(pairs), body, duplex: 'half' } as RequestInit);
  }
  // Hosts hand the Host over as the request's authority (wasi:http forbids a host field, and the engine's
  // Request drops one): the app checks it against DNS rebinding, and it never becomes a part of the URL.
  const authority = incoming.authority();
  if (authority) setArrivedHost(request, authority);
  return request;
}

/**
 * The request's headers as name/value pairs. The `fields` resource is released at once: a host that reuses the
 * instance (the local host, wasmtime with instance reuse) would otherwise keep it for as long as the instance lives.
 */
function headerPairs(incoming: IncomingRequest): [string, string][] {
  using headers = incoming.headers();
  return headers.entries().map(([name, value]): [string, string] => [name, decoder.decode(value)]);
}

/** The headers of `pairs` the web Headers class accepts. */
function acceptedHeaders(pairs: [string, string][]): Headers {
  const headers = new Headers();
  for (const [name, value] of pairs) {
    try {
      headers.append(name, value);
    } catch {
      // dropped
    }
  }
  return headers;
}

/**
 * The request body as a web stream that reads from wasi:http only when the app pulls: an app that stops
 * at its cap leaves the rest unread, and one that refuses the body unread (a Content-Length over its cap) reads
 * none of it — with the default high-water mark of one chunk, the stream would read a chunk into the instance's
 * memory as soon as it is made. The body and its stream go into `held`, released after the response.
 */
function bodyStream(incoming: IncomingRequest, held: Resources): ReadableStream<Uint8Array> {
  const body: IncomingBody = held.hold(incoming.consume());
  const stream = held.hold(body.stream());
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      try {
        const chunk = stream.blockingRead(BigInt(BODY_READ_CHUNK_BYTES));
        if (chunk.length > 0) controller.enqueue(chunk);
      } catch (error) {
        if ((wasiPayload(error) as StreamError | undefined)?.tag === 'closed') controller.close();
        else controller.error(error);
      }
    },
  }, { highWaterMark: 0 });
}

/** A response ready to hand over: nothing that can fail is left once it exists. */
interface PreparedResponse {
  outgoing: OutgoingResponse;
  body: Uint8Array;
}

/** Reads the body and builds the wasi:http response; throws (a body stream error, a header wasi:http refuses) before anything is sent. */
async function prepareResponse(response: Response): Promise<PreparedResponse> {
  const body = new Uint8Array(await response.arrayBuffer());
  const fields: [string, Uint8Array][] = [];
  response.headers.forEach((value, name) => fields.push([name, encoder.encode(value)]));
  const outgoing = new OutgoingResponse(Fields.fromList(fields));
  outgoing.setStatusCode(response.status);
  return { outgoing, body };
}

/** Hands the response to the host, then writes its body in chunks. */
function sendResponse({ outgoing, body }: PreparedResponse, outparam: ResponseOutparam): void {
  const outgoingBody = outgoing.body();
  // The response is handed over first, so the host can stream the body while it is written.
  ResponseOutparam.set(outparam, { tag: 'ok', val: outgoing });
  {
    // The stream is a child of the body: released before the body is finished.
    using stream = outgoingBody.write();
    blockingWriteAll(stream, body);
  }
  OutgoingBody.finish(outgoingBody, undefined);
}

/**
 * The app's response to `incoming`; the request's body stream, its body and the request itself are released, in that
 * order, before it returns. A request never released stays in the host's table with its body for as long as the
 * instance lives: on a host that reuses instances, every request's body would be kept.
 */
async function respond(app: (request: Request) => Promise<Response>, incoming: IncomingRequest): Promise<Response> {
  using held = new Resources();
  held.hold(incoming);
  try {
    return await app(toRequest(incoming, held));
  } catch (error) {
    // The app answers its own errors, so what reaches here is a request the web Request class refuses.
    return errorResponse(new ServiceError('invalid-request', 'the request could not be read', { cause: error }));
  }
}

/**
 * The `wasi:http/incoming-handler` export for an app. Nothing a request or the app does makes it throw:
 * a throw would trap the instance, and hosts that reuse instances would lose it.
 */
export function incomingHandlerFor(app: (request: Request) => Promise<Response>) {
  return {
    async handle(request: IncomingRequest, outparam: ResponseOutparam): Promise<void> {
      const response = await respond(app, request);
      let prepared: PreparedResponse;
      try {
        prepared = await prepareResponse(response);
      } catch (error) {
        // An `internal` error: logged with its cause, answered as a generic 500.
        prepared = await prepareResponse(errorResponse(error));
      }
      try {
        sendResponse(prepared, outparam);
      } catch (error) {
        // The response is already the host's: all that is left is to say why its body stopped.
        console.error('ai-agent-sockets: the response body could not be written:', error);
      }
    },
  };
}
