import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { parseQuery } from '../../src/query.js';

describe('parseQuery(search)', () => {
  test('decodes percent-escapes and + as space', () => {
    const q = parseQuery('?host=a.b&msg=hello%20wasi+again&empty=&flag');
    expect(Object.fromEntries(q)).toEqual({ host: 'a.b', msg: 'hello wasi again', empty: '', flag: '' });
  });
  test('keeps CR/LF/NUL as decoded bytes (validation happens per parameter)', () => {
    expect(parseQuery('msg=PING%0D%0A%00').get('msg')).toBe('PING\r\n\0');
  });
  test('decodes UTF-8', () => expect(parseQuery('msg=%C3%A9').get('msg')).toBe('é'));
  test.each([
    ['msg=%zz', 'invalid-encoding'],
    ['msg=%', 'invalid-encoding'],
    ['msg=%FF', 'invalid-encoding'],
    ['msg=%C3', 'invalid-encoding'],
    ['a=1&a=2', 'duplicate-parameter'],
    ['a=1&a', 'duplicate-parameter'],
  ])('%s → %s', (search, code) => {
    expect(() => parseQuery(search)).toThrow(ServiceError);
    try {
      parseQuery(search);
    } catch (error) {
      expect((error as ServiceError).code).toBe(code);
      expect((error as ServiceError).status).toBe(400);
    }
  });
});
