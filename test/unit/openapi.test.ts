import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, test } from 'vitest';
import { createApp, ROUTES } from '../../src/api/app.js';
import { Config } from '../../src/settings/config.js';
import { ERROR_STATUS } from '../../src/core/errors.js';
import { EXCHANGE_REQUEST_SCHEMA, HOST_SCHEMA, SERVER_NAME_SCHEMA, exchangeRequestSchema } from '../../src/api/exchange-schema.js';
import { parseHost } from '../../src/net/target.js';
import { openApiDocument, withoutDialect } from '../../src/api/openapi.js';
import { fakeNetwork } from '../support/fake-network.js';

describe('openApiDocument()', () => {
  test('is a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    const api = await SwaggerParser.validate(structuredClone(openApiDocument()) as never);
    expect((api as { openapi: string }).openapi).toBe('3.1.0');
  });

  test('its /tcp/exchange request schema is the schema that validates requests, with the forms of a host and a server name and the server\'s bounds', () => {
    const limits = new Config({}).limits;
    const documented = openApiDocument(limits).components.schemas.ExchangeRequest;
    const step = documented.properties.steps.items.properties;
    expect(documented.properties.host).toMatchObject(HOST_SCHEMA);
    expect(documented.properties.tls.oneOf[1].properties.server_name).toMatchObject(SERVER_NAME_SCHEMA);
    expect(step.starttls.oneOf[1].properties.server_name).toMatchObject(SERVER_NAME_SCHEMA);
    const maximumOf = (node: object) => (node as { maximum?: number }).maximum;
    expect([maximumOf(documented.properties.timeout_ms), maximumOf(step.bytes), maximumOf(step.idle_ms)]).toEqual([limits.requestDeadlineMs, limits.maxReplyBytes, limits.replyIdleMs]);
    // Without the server's bounds, it is the validator's schema, but for the forms the validator leaves to the parser
    // and a secret part that names only the caller's own secrets (none here: the parts are bytes only).
    const validator = withoutDialect(exchangeRequestSchema([]));
    const unbounded = openApiDocument().components.schemas.ExchangeRequest;
    const validatorsServerName = (option: typeof documented.properties.tls, of: typeof validator.properties.tls) => ({
      ...option,
      oneOf: [option.oneOf[0], { ...option.oneOf[1], properties: { server_name: of.oneOf[1].properties.server_name } }],
    });
    const unboundedStep = unbounded.properties.steps.items;
    expect({
      ...unbounded,
      properties: {
        ...unbounded.properties,
        host: validator.properties.host,
        tls: validatorsServerName(unbounded.properties.tls, validator.properties.tls),
        steps: {
          ...unbounded.properties.steps,
          items: { ...unboundedStep, properties: { ...unboundedStep.properties, starttls: validatorsServerName(unboundedStep.properties.starttls, validator.properties.steps.items.properties.starttls) } },
        },
      },
    }).toEqual(validator);
    expect(EXCHANGE_REQUEST_SCHEMA.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const withSecrets = openApiDocument(undefined, ['REDIS_PASSWORD']).components.schemas.ExchangeRequest;
    expect(withSecrets.properties.steps.items.properties.send.oneOf[1].items.properties).toMatchObject({ secret: { enum: ['REDIS_PASSWORD'] } });
  });

  const documentedHost = (host: string) => HOST_SCHEMA.anyOf.some((branch) => new RegExp(branch.pattern, 'u').test(host));
  test.each([
    'example.com',
    'redis_1.internal.',
    'a-b.c',
    'foo.1a',
    '1a',
    'x.0xg',
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`,
    '127.0.0.1',
    '255.255.255.255',
    '::1',
    '[::1]',
    '::ffff:192.0.2.1',
    '[64:ff9b::192.0.2.1]',
    '2001:db8::8a2e:370:7334',
    'fe80::',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '::2:3:4:5:6:7:8',
  ])('the documented host pattern takes %s, and so does the server', (host) => {
    expect(documentedHost(host)).toBe(true);
    expect(() => parseHost(host)).not.toThrow();
  });

  test.each(['1.2.3', '0x7f.1', 'foo.123', 'foo.0x1f', 'x.0x', 'a.09.', '256.1.1.1', 'a..b', '-a', 'a b', '{x}', '1::2::3', '[::1', 'fe80::1%eth0', '', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`, '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3'])(
    'the documented host pattern refuses %s',
    (host) => {
      expect(documentedHost(host)).toBe(false);
    },
  );

  test('it lists every error code', () => {
    expect(openApiDocument().components.schemas.Error.properties.error.properties.code.enum).toEqual(Object.keys(ERROR_STATUS));
  });

  test('documents exactly the routes and methods the app answers', () => {
    const documented = Object.entries(openApiDocument().paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const answered = Object.entries(ROUTES).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`));
    expect(documented.sort()).toEqual(answered.sort());
  });

  test.each(Object.entries(openApiDocument().paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => [path, m] as const)))('%s %s is answered (neither 404 nor 405)', async (path, method) => {
    const app = createApp({ config: () => new Config({}), network: fakeNetwork({}).network });
    const r = await app(new Request(`http://component.local${path}`, { method: method.toUpperCase(), body: method === 'post' ? '{}' : undefined }));
    expect(r.status).not.toBe(404);
    expect(r.status).not.toBe(405);
  });

  test('GET /openapi.json serves it as JSON', async () => {
    const app = createApp({ config: () => new Config({}), network: fakeNetwork({}).network });
    const r = await app(new Request('http://component.local/openapi.json'));
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument(new Config({}).limits))));
  });
});
