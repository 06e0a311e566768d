// authenticate(request, authentication): which caller a bearer token is, as an attacker would probe it.

import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { authenticate, sha256 } from '../../src/http/auth.js';
import type { ConfiguredCaller } from '../../src/net/caller.js';
import { Config } from '../../src/settings/config.js';

const OPS_TOKEN = 'ops-bot-token-0123456789abcdef';
const REPORT_TOKEN = 'report-bot-token-0123456789abcd';
const digest = (token: string) => createHash('sha256').update(token).digest('hex');
const CALLERS = JSON.stringify({
  'ops-bot': { token_sha256: digest(OPS_TOKEN), allowed_targets: '10.20.0.0/16:6379', limits: { request_deadline_ms: 5000 } },
  'report-bot': { token_sha256: digest(REPORT_TOKEN).toUpperCase(), allowed_targets: '93.184.215.14:443' },
});
const config = new Config({ CALLERS });
const request = (authorization?: string) => new Request('http://component.local/tcp/exchange', { headers: authorization ? { authorization } : {} });

async function refusal(run: () => Promise<unknown>): Promise<ServiceError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('authenticate(request, authentication) with CALLERS', () => {
  test('each token authenticates as its own caller, with its own reach and limits', async () => {
    const ops = await authenticate(request(`Bearer ${OPS_TOKEN}`), config.callers);
    expect(ops.name).toBe('ops-bot');
    expect(ops.allowedTargets?.map((e) => e.text)).toEqual(['10.20.0.0/16:6379']);
    expect(ops.limits.requestDeadlineMs).toBe(5000);
    expect((await authenticate(request(`bearer ${REPORT_TOKEN}`), config.callers)).name).toBe('report-bot');
  });

  test.each([
    ['no header', undefined],
    ['a prefix of a token', `Bearer ${OPS_TOKEN.slice(0, -1)}`],
    ['a token with a byte more', `Bearer ${OPS_TOKEN}x`],
    ['the digest itself as the token', `Bearer ${digest(OPS_TOKEN)}`],
    ['two tokens joined', `Bearer ${OPS_TOKEN}${REPORT_TOKEN}`],
    ['the basic scheme', `Basic ${OPS_TOKEN}`],
    ['an empty bearer', 'Bearer '],
  ])('%s is 401 with WWW-Authenticate and a message that names CALLERS, never a token', async (_, header) => {
    const error = await refusal(() => authenticate(request(header), config.callers));
    expect(error.code).toBe('unauthorized');
    expect(error.headers['www-authenticate']).toBe('Bearer realm="ai-agent-sockets"');
    expect(error.message).toBe('this endpoint requires the header "Authorization: Bearer <token>" with the token of a caller named in CALLERS');
  });

  test('every caller\'s digest is compared, whichever matches: no early exit for timing to show', async () => {
    const { callers } = config.callers as { callers: readonly ConfiguredCaller[] };
    const reads = new Map<string, number>();
    const watched = callers.map((caller) => new Proxy(caller, {
      get(target, key, receiver) {
        if (key === 'tokenSha256') reads.set(target.name, (reads.get(target.name) ?? 0) + 1);
        return Reflect.get(target, key, receiver);
      },
    }));
    for (const token of [OPS_TOKEN, REPORT_TOKEN, 'nobody-token-0123456789abcdef']) {
      reads.clear();
      await authenticate(request(`Bearer ${token}`), { kind: 'digests', callers: watched }).catch(() => undefined);
      expect(Object.fromEntries(reads), token).toEqual({ 'ops-bot': 1, 'report-bot': 1 });
    }
  });

  test('AUTH_TOKEN stays the one-caller shorthand: caller "default", the service\'s reach, every secret, the old message', async () => {
    const token = new Config({ AUTH_TOKEN: OPS_TOKEN, REQUEST_DEADLINE_MS: '7000' }).callers;
    const caller = await authenticate(request(`Bearer ${OPS_TOKEN}`), token);
    expect(caller).toMatchObject({ name: 'default', allowedTargets: undefined, secrets: 'all' });
    expect(caller.limits.requestDeadlineMs).toBe(7000);
    const error = await refusal(() => authenticate(request(`Bearer ${REPORT_TOKEN}`), token));
    expect(error.message).toBe('this endpoint requires the header "Authorization: Bearer <AUTH_TOKEN>"');
  });

  test('without AUTH_TOKEN or CALLERS every request is the anonymous caller, with no secret', async () => {
    const caller = await authenticate(request(), new Config({}).callers);
    expect(caller).toMatchObject({ name: 'anonymous', allowedTargets: undefined });
    expect(caller.secrets).toEqual(new Set());
  });
});

describe('sha256(text)', () => {
  test('is the SHA-256 of the text as UTF-8', async () => {
    expect(Buffer.from(await sha256('pässwort')).toString('hex')).toBe(digest('pässwort'));
  });
});
