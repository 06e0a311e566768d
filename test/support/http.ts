// A GET helper for end-to-end tests: status, headers, body, the JSON error code and the time taken.

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  /** `error.code` of a JSON error body. */
  code?: string;
  ms: number;
}

export async function get(base: string, path: string, init?: RequestInit): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${base}${path}`, init);
  const body = Buffer.from(await response.arrayBuffer());
  const ms = performance.now() - started;
  const text = body.toString('utf8');
  let code: string | undefined;
  if (response.headers.get('content-type') === 'application/json') code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  return { status: response.status, headers: response.headers, body, text, code, ms };
}
