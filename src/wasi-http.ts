// Adapts wasi:http (incoming-request, response-outparam) to a web Request → Response function.

import {
  Fields,
  OutgoingBody,
  OutgoingResponse,
  ResponseOutparam,
  type IncomingRequest,
  type Method,
} from 'wasi:http/types@0.2.10';

/** Largest write `blocking-write-and-flush` accepts in one call. */
const WRITE_CHUNK_BYTES = 4096;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

function methodName(method: Method): string {
  return method.tag === 'other' ? method.val : method.tag.toUpperCase();
}

/**
 * Builds a web Request. The URL's authority is fixed: the inbound Host header never reaches routing,
 * and a path such as `//evil.example/x` stays a path.
 */
function toRequest(incoming: IncomingRequest): Request {
  const pathWithQuery = incoming.pathWithQuery() ?? '/';
  const path = pathWithQuery.startsWith('/') ? pathWithQuery : `/${pathWithQuery}`;
  const headers = new Headers();
  for (const [name, value] of incoming.headers().entries()) {
    try {
      headers.append(name, decoder.decode(value));
    } catch {
      // A header the web Headers class refuses is one the app has no use for.
    }
  }
  return new Request(`http://component.local${path}`, { method: methodName(incoming.method()), headers });
}

async function writeResponse(response: Response, outparam: ResponseOutparam): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  const fields: [string, Uint8Array][] = [];
  response.headers.forEach((value, name) => fields.push([name, encoder.encode(value)]));
  const outgoing = new OutgoingResponse(Fields.fromList(fields));
  outgoing.setStatusCode(response.status);
  const outgoingBody = outgoing.body();
  // The response is handed over first, so the host can stream the body while it is written.
  ResponseOutparam.set(outparam, { tag: 'ok', val: outgoing });
  const stream = outgoingBody.write();
  try {
    for (let offset = 0; offset < body.length; offset += WRITE_CHUNK_BYTES) {
      stream.blockingWriteAndFlush(body.subarray(offset, offset + WRITE_CHUNK_BYTES));
    }
  } finally {
    stream[Symbol.dispose]();
  }
  OutgoingBody.finish(outgoingBody, undefined);
}

/** The `wasi:http/incoming-handler` export for an app. */
export function incomingHandlerFor(app: (request: Request) => Promise<Response>) {
  return {
    async handle(request: IncomingRequest, outparam: ResponseOutparam): Promise<void> {
      let response: Response;
      try {
        response = await app(toRequest(request));
      } catch (error) {
        console.error('ai-agent-sockets: request could not be read:', error);
        response = new Response(JSON.stringify({ error: { code: 'invalid-request', message: 'the request could not be read' } }), {
          status: 400,
          headers: { 'content-type': 'application/json' },
        });
      }
      await writeResponse(response, outparam);
    },
  };
}
