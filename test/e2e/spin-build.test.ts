// The Spin build (dist/ai-agent-sockets-spin.wasm) on the local host, with a stand-in for Spin's variables
// interface that serves what each test gives it: settings come from Spin variables first, the environment
// second, and a variable Spin fails to provide closes the service instead of falling back.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { APP_COMPONENT_PATH, PORTABLE_COMPONENT_PATH, SPIN_APP_COMPONENT_PATH, SPIN_COMPONENT_PATH, build, findWac } from '../../scripts/build.mjs';
import { startServer, type LocalHost } from '../../host/server.mjs';
import { echoPeer, type Peer } from '../support/peers.js';
import { readSpinManifest } from '../support/spin-manifest.js';
import type { SpinVariables } from '../support/spin-variables.mjs';

const STAND_IN = { 'fermyon:spin/variables@2.0.0': `${new URL('../support/spin-variables.mjs', import.meta.url).href}#variables` };
const TOKEN = 'spin-variable-token-0123456789';
const OTHER_TOKEN = 'environment-token-0123456789';

type ErrorBody = { error: { code: string; message: string } };

/** What Spin serves for spin.toml's [variables] when `spin up` is given no value: each default. */
function manifestDefaults(): Record<string, string> {
  const declared = readSpinManifest().get('variables') ?? new Map();
  return Object.fromEntries([...declared].map(([name, declaration]) => [name, String((declaration as { default?: string }).default ?? '')]));
}

describe('the Spin build on the local host, with Spin variables from a stand-in', () => {
  let echo: Peer;
  const servers: LocalHost[] = [];
  const start = async (spinVariables: SpinVariables, env: Record<string, string> = {}) => {
    const server = await startServer({ componentPath: SPIN_APP_COMPONENT_PATH, env, poolSize: 1 }, { imports: STAND_IN, importsData: { spinVariables } });
    servers.push(server);
    await server.ready;
    return server;
  };
  const send = (server: LocalHost, msg: string, token?: string) =>
    fetch(`${server.url}/tcp/send?host=127.0.0.1&port=${echo.port}&msg=${msg}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    echo = await echoPeer();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close(0)));
    await echo?.close();
  });

  test('AUTH_TOKEN given only as the Spin variable auth_token: a request without the bearer token gets 401', async () => {
    const server = await start({ values: { auth_token: TOKEN, allowed_targets: '127.0.0.1:*' } });
    const refused = await send(server, 'hi');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const allowed = await send(server, 'hi', TOKEN);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe('echo:hi');
  });

  test('a Spin variable wins over the environment value of the same setting', async () => {
    const server = await start({ values: { auth_token: TOKEN, max_message_bytes: '4' } }, { AUTH_TOKEN: OTHER_TOKEN, MAX_MESSAGE_BYTES: '1000', ALLOWED_TARGETS: '127.0.0.1:*' });
    expect((await send(server, 'hi', OTHER_TOKEN)).status).toBe(401);
    expect((await send(server, 'four', TOKEN)).status).toBe(200);
    expect((await send(server, 'five!', TOKEN)).status).toBe(413);
  });

  test('settings with no Spin variable, or an empty one, come from the environment', async () => {
    const server = await start({ values: { auth_token: '' } }, { AUTH_TOKEN: OTHER_TOKEN, ALLOWED_TARGETS: '127.0.0.1:*' });
    expect((await send(server, 'hi')).status).toBe(401);
    expect((await send(server, 'hi', OTHER_TOKEN)).status).toBe(200);
  });

  test('auth_token that Spin fails to provide: 503 config-invalid naming it on every endpoint but /health, never the environment value', async () => {
    const server = await start({ failures: { auth_token: { tag: 'provider', val: 'no provider resolved required variable "auth_token"' } } }, { AUTH_TOKEN: OTHER_TOKEN, ALLOWED_TARGETS: '127.0.0.1:*' });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    for (const response of [await send(server, 'hi', OTHER_TOKEN), await send(server, 'hi'), await fetch(`${server.url}/`)]) {
      expect(response.status).toBe(503);
      const body = (await response.json()) as ErrorBody;
      expect(body.error.code).toBe('config-invalid');
      expect(body.error.message).toContain('setting AUTH_TOKEN is unavailable: Spin could not provide the variable auth_token (provider:');
      expect(body.error.message).not.toContain(OTHER_TOKEN);
    }
  });

  test("spin.toml's variables as `spin up` serves them: the development profile, and auth_token given at start closes it", async () => {
    const open = await start({ values: manifestDefaults() });
    const reply = await send(open, 'dev');
    expect(reply.status).toBe(200);
    expect(await reply.text()).toBe('echo:dev');
    const closed = await start({ values: { ...manifestDefaults(), auth_token: TOKEN } });
    expect((await send(closed, 'dev')).status).toBe(401);
    expect((await send(closed, 'dev', TOKEN)).status).toBe(200);
  });
});

describe('build({ ifStale })', () => {
  test('after the run\'s build, both components are current: nothing is rebuilt', async () => {
    expect(await build({ ifStale: true, quiet: true })).toEqual({
      // The composed components where wac is installed; the apps alone where it is not.
      portable: { built: false, path: findWac() ? PORTABLE_COMPONENT_PATH : APP_COMPONENT_PATH },
      spin: { built: false, path: findWac() ? SPIN_COMPONENT_PATH : SPIN_APP_COMPONENT_PATH },
    });
  });
});
