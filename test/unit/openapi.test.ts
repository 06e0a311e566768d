import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, test } from 'vitest';
import { createApp, ROUTES } from '../../src/api/app.js';
import { Config } from '../../src/settings/config.js';
import { ERROR_STATUS } from '../../src/core/errors.js';
import { EXCHANGE_REQUEST_SCHEMA, HOST_SCHEMA } from '../../src/api/exchange-schema.js';
import { parseHost } from '../../src/net/target.js';
import { openApiDocument, withoutDialect } from '../../src/api/openapi.js';
import { fakeNetwork } from '../support/fake-network.js';

describe('openApiDocument()', () => {
  test('is a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    const api = await SwaggerParser.validate(structuredClone(openApiDocument()) as never);
    expect((api as { openapi: string }).openapi).toBe('3.1.0');
  });

  test('its /tcp/exchange request schema is the schema that validates requests, with the host\'s usual forms and the server\'s bounds', () => {
    const limits = new Config({}).limits;
    const documented = openApiDocument(limits).components.schemas.ExchangeRequest;
    const step = documented.properties.steps.items.properties;
    expect(documented.properties.host).toMatchObject(HOST_SCHEMA);
    expect([documented.properties.timeout_ms.maximum, step.bytes.maximum, step.idle_ms.maximum]).toEqual([limits.requestDeadlineMs, limits.maxReplyBytes, limits.replyIdleMs]);
    // Without the server's bounds, it is the validator's schema, but for the host.
    const validator = withoutDialect(EXCHANGE_REQUEST_SCHEMA);
    const unbounded = openApiDocument().components.schemas.ExchangeRequest;
    expect({ ...unbounded, properties: { ...unbounded.properties, host: validator.properties.host } }).toEqual(validator);
    expect(EXCHANGE_REQUEST_SCHEMA.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });

  test.each(['example.com', 'redis_1.internal.', 'a-b.c', '127.0.0.1', '255.255.255.255', '::1', '[::1]', '2001:db8::8a2e:370:7334', 'fe80::', '1:2:3:4:5:6:7:8'])(
    'the documented host pattern takes %s, and so does the server',
    (host) => {
      const patterns = HOST_SCHEMA.anyOf.map((branch) => new RegExp(branch.pattern, 'u'));
      expect(patterns.some((pattern) => pattern.test(host))).toBe(true);
      expect(() => parseHost(host)).not.toThrow();
    },
  );

  test.each(['1.2.3', '0x7f.1', '256.1.1.1', 'a..b', '-a', 'a b', '{x}', '1::2::3', '[::1', 'fe80::1%eth0', ''])('the documented host pattern refuses %s', (host) => {
    expect(HOST_SCHEMA.anyOf.some((branch) => new RegExp(branch.pattern, 'u').test(host))).toBe(false);
  });

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
