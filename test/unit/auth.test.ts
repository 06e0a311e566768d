import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { constantTimeEqual } from '../../src/http/auth.js';
import { Config } from '../../src/settings/config.js';
import { fakeNetwork, reply } from '../support/fake-network.js';

const TOKEN = 'correct-horse-battery-staple-42';

describe('constantTimeEqual(a, b)', () => {
  test.each([
    ['', '', true],
    ['abc', 'abc', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['ab', 'abc', false],
    ['', 'a', false],
    ['abcabc', 'abc', false],
  ])('%j vs %j → %s', (a, b, equal) => expect(constantTimeEqual(a, b)).toBe(equal));
});

describe('AUTH_TOKEN', () => {
  const { network } = fakeNetwork({ peers: { '127.0.0.1:7': reply('pong') } });
  const config = new Config({ AUTH_TOKEN: TOKEN, ALLOWED_TARGETS: '127.0.0.1:*' });
  const app = createApp({ config: () => config, network });
  const call = (path: string, authorization?: string) =>
    app(new Request(`http://component.local${path}`, { headers: authorization ? { authorization } : {} }));

  test('/health stays open', async () => expect((await call('/health')).status).toBe(200));

  test.each([
    ['no header', undefined],
    ['wrong token', `Bearer ${TOKEN}x`],
    ['prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
    ['basic scheme', `Basic ${TOKEN}`],
    ['token without scheme', TOKEN],
    ['empty bearer', 'Bearer '],
  ])('%s → 401 with WWW-Authenticate: Bearer', async (_, header) => {
    for (const path of ['/tcp/send?host=127.0.0.1&port=7', '/', '/unknown']) {
      const response = await call(path, header);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await response.text()).not.toContain(TOKEN);
    }
  });

  test('the right token passes (scheme is case-insensitive)', async () => {
    expect((await call('/tcp/send?host=127.0.0.1&port=7', `Bearer ${TOKEN}`)).status).toBe(200);
    expect((await call('/tcp/send?host=127.0.0.1&port=7', `bearer ${TOKEN}`)).status).toBe(200);
  });

  test.each([
    ['too short', 'short'],
    ['with a space', 'a token with spaces in it!'],
    ['an unexpanded Spin template', '{{ auth_token }}'],
  ])('an AUTH_TOKEN %s is config-invalid and never echoed', async (_, value) => {
    const bad = createApp({ config: () => new Config({ AUTH_TOKEN: value }), network });
    const response = await bad(new Request('http://component.local/tcp/send?host=127.0.0.1&port=7'));
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).toContain('AUTH_TOKEN');
    expect(text).not.toContain(value);
    expect((await bad(new Request('http://component.local/health'))).status).toBe(200);
  });
});
