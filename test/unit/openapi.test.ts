import SwaggerParser from '@apidevtools/swagger-parser';
import { describe, expect, test } from 'vitest';
import { createApp, ROUTES } from '../../src/api/app.js';
import { Config } from '../../src/settings/config.js';
import { ERROR_STATUS } from '../../src/core/errors.js';
import { EXCHANGE_REQUEST_SCHEMA } from '../../src/api/exchange-schema.js';
import { openApiDocument, withoutDialect } from '../../src/api/openapi.js';
import { fakeNetwork } from '../support/fake-network.js';

describe('openApiDocument()', () => {
  test('is a valid OpenAPI 3.1 document (swagger-parser)', async () => {
    const api = await SwaggerParser.validate(structuredClone(openApiDocument()) as never);
    expect((api as { openapi: string }).openapi).toBe('3.1.0');
  });

  test('its /tcp/exchange request schema is the schema that validates requests', () => {
    expect(openApiDocument().components.schemas.ExchangeRequest).toEqual(withoutDialect(EXCHANGE_REQUEST_SCHEMA));
    expect(EXCHANGE_REQUEST_SCHEMA.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
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
    expect(await r.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });
});
