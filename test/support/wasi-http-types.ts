// `wasi:http/types` for unit tests of src/wasi/http.ts (aliased in vitest.config.ts): the local host's own
// in-memory incoming side (host/wasi-http-incoming.mjs) over preview2-shim's Fields — a real implementation, not a mock.
import { types } from '../../host/wasi-http-incoming.mjs';

export const { Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam } = types;
