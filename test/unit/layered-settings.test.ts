// The Spin build's settings: Spin variable first, environment behind it, and no fallback when Spin fails.

import { beforeEach, describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { Config } from '../../src/settings/config.js';
import { ServiceError } from '../../src/core/errors.js';
import { layeredSettings, type Lookup } from '../../src/settings/layered-settings.js';
import { COMPONENT_SETTINGS } from '../../src/settings/setting-names.js';
import { readSpinVariable, spinVariableName } from '../../src/wasi/spin-variables.js';
import { failure } from '../support/failure.js';
import { fakeNetwork, reply } from '../support/fake-network.js';
import { serveSpinVariables } from '../support/spin-variables.mjs';

const VALUE = (value: string): Lookup => ({ kind: 'value', value });
const UNDEFINED: Lookup = { kind: 'undefined' };
const FAILED: Lookup = { kind: 'failed', reason: 'Spin could not provide the variable connect_timeout_ms (provider: vault sealed)' };

describe('layeredSettings(names, first, environment)', () => {
  test.each([
    ['a variable wins over the environment', VALUE('2000'), '3000', '2000'],
    ['a variable without an environment value', VALUE('2000'), undefined, '2000'],
    ['an undefined variable leaves it to the environment', UNDEFINED, '3000', '3000'],
    ['an empty variable leaves it to the environment', VALUE(''), '3000', '3000'],
    ['neither source: unset', UNDEFINED, undefined, undefined],
    ['an empty variable and no environment value: unset', VALUE(''), undefined, undefined],
  ])('%s', (_, lookup, fromEnvironment, expected) => {
    const settings = layeredSettings(['CONNECT_TIMEOUT_MS'], () => lookup, { CONNECT_TIMEOUT_MS: fromEnvironment });
    expect(settings.CONNECT_TIMEOUT_MS).toBe(expected);
  });

  test('a variable Spin failed to provide is 503 config-invalid naming it, never the environment value', () => {
    const settings = layeredSettings(['CONNECT_TIMEOUT_MS'], () => FAILED, { CONNECT_TIMEOUT_MS: '3000' });
    const error = failure(() => settings.CONNECT_TIMEOUT_MS);
    expect(error.code).toBe('config-invalid');
    expect(error.status).toBe(503);
    expect(error.message).toBe('setting CONNECT_TIMEOUT_MS is unavailable: Spin could not provide the variable connect_timeout_ms (provider: vault sealed)');
  });

  test('each setting is asked for once when found, again after a failure, and only when read', () => {
    const asked: string[] = [];
    let fail = true;
    const settings = layeredSettings(['AUTH_TOKEN', 'DNS_MODE'], (name) => (asked.push(name), fail ? FAILED : VALUE('x')), {});
    expect(asked).toEqual([]);
    expect(() => settings.AUTH_TOKEN).toThrow(ServiceError);
    fail = false;
    expect([settings.AUTH_TOKEN, settings.AUTH_TOKEN]).toEqual(['x', 'x']);
    expect(asked).toEqual(['AUTH_TOKEN', 'AUTH_TOKEN']);
  });

  test('holds exactly the named settings: nothing else of the environment shows through', () => {
    const settings = layeredSettings(COMPONENT_SETTINGS, () => UNDEFINED, { HOME: '/root', DNS_MODE: 'tcp' });
    expect(Object.keys(settings)).toEqual([...COMPONENT_SETTINGS]);
    expect(settings.HOME).toBeUndefined();
    expect(settings.DNS_MODE).toBe('tcp');
  });
});

describe('readSpinVariable(setting) on fermyon:spin/variables', () => {
  beforeEach(() => serveSpinVariables({}));

  test.each(COMPONENT_SETTINGS.map((name) => [name]))('%s is read as the Spin variable of its lowercase name', (name) => {
    const variable = spinVariableName(name);
    expect(variable).toMatch(/^[a-z](?:_?[a-z0-9])*$/);
    serveSpinVariables({ values: { [variable]: 'from-spin' } });
    expect(readSpinVariable(name)).toEqual(VALUE('from-spin'));
  });

  test.each([
    ['undefined', { kind: 'undefined' }],
    ['provider', { kind: 'failed', reason: 'Spin could not provide the variable auth_token (provider: no provider resolved required variable "auth_token")' }],
    ['other', { kind: 'failed', reason: 'Spin could not provide the variable auth_token (other: no provider resolved required variable "auth_token")' }],
    ['invalid-name', { kind: 'failed', reason: 'Spin could not provide the variable auth_token (invalid-name: no provider resolved required variable "auth_token")' }],
  ] as const)('a %s error is %j', (tag, expected) => {
    serveSpinVariables({ failures: { auth_token: { tag, val: 'no provider resolved required variable "auth_token"' } } });
    expect(readSpinVariable('AUTH_TOKEN')).toEqual(expected);
  });
});

describe('the Spin build settings through the app', () => {
  const { network } = fakeNetwork({ peers: { '127.0.0.1:7': reply('pong') } });
  const TOKEN = 'spin-variable-token-0123456789';
  const appWith = (spin: Parameters<typeof serveSpinVariables>[0], environment: Record<string, string>) => {
    serveSpinVariables(spin);
    return createApp({ config: () => new Config(layeredSettings(COMPONENT_SETTINGS, readSpinVariable, environment)), network });
  };
  const get = (app: ReturnType<typeof createApp>, path: string, authorization?: string) =>
    app(new Request(`http://component.local${path}`, { headers: authorization ? { authorization } : {} }));

  test('AUTH_TOKEN given only as the variable auth_token is required', async () => {
    const app = appWith({ values: { auth_token: TOKEN, allowed_targets: '127.0.0.1:*' } }, {});
    expect((await get(app, '/tcp/send?host=127.0.0.1&port=7')).status).toBe(401);
    expect((await get(app, '/tcp/send?host=127.0.0.1&port=7', `Bearer ${TOKEN}`)).status).toBe(200);
  });

  test('auth_token that Spin fails to provide closes every endpoint but /health with 503, even with AUTH_TOKEN in the environment', async () => {
    const app = appWith({ failures: { auth_token: { tag: 'provider', val: 'secret store unreachable' } } }, { AUTH_TOKEN: TOKEN, ALLOWED_TARGETS: '127.0.0.1:*' });
    expect((await get(app, '/health')).status).toBe(200);
    for (const path of ['/', '/tcp/send?host=127.0.0.1&port=7', '/unknown']) {
      const response = await get(app, path, `Bearer ${TOKEN}`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('config-invalid');
      expect(body.error.message).toContain('AUTH_TOKEN');
      expect(body.error.message).toContain('auth_token (provider: secret store unreachable)');
    }
  });
});
