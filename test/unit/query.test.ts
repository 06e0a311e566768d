import { describe, expect, test } from 'vitest';
import { ServiceError } from '../../src/core/errors.js';
import { parseQuery } from '../../src/http/query.js';

describe('parseQuery(search)', () => {
  test('decodes percent-escapes and + as space', () => {
    const q = parseQuery('?host=a.b&msg=hello%20wasi+again&empty=&flag');
    expect(Object.fromEntries(q.names().map((n) => [n, q.get(n)]))).toEqual({ host: 'a.b', msg: 'hello wasi again', empty: '', flag: '' });
  });
  test('keeps CR/LF/NUL as decoded bytes (validation happens per parameter)', () => {
    expect(parseQuery('msg=PING%0D%0A%00').get('msg')).toBe('PING\r\n\0');
  });
  test('decodes UTF-8', () => expect(parseQuery('msg=%C3%A9').get('msg')).toBe('é'));
  test('decodes any byte value as bytes, + as a space', () => {
    expect([...parseQuery('msg=%00%FF%fe+a%2B').bytes('msg')!]).toEqual([0, 0xff, 0xfe, 0x20, 0x61, 0x2b]);
  });
  test('bytes of a value the URL parser would have escaped are its UTF-8 bytes', () => {
    expect([...parseQuery('msg=é').bytes('msg')!]).toEqual([0xc3, 0xa9]);
  });
  test('a value that is not UTF-8 is a 400 only when read as text', () => {
    const q = parseQuery('msg=%FF');
    expect(q.bytes('msg')).toEqual(new Uint8Array([0xff]));
    expect(() => q.get('msg')).toThrow(/invalid percent-encoding/);
  });
  const badEncoding = (what: string) => `${what} has invalid percent-encoding (each % must start a %XX escape, and text must be UTF-8)`;
  test.each([
    ['msg=%zz', 'invalid-encoding', badEncoding('parameter "msg"')],
    ['msg=%', 'invalid-encoding', badEncoding('parameter "msg"')],
    ['msg=abc%4', 'invalid-encoding', badEncoding('parameter "msg"')],
    ['%FF=1', 'invalid-encoding', badEncoding('a parameter name')],
    ['a=1&a=2', 'duplicate-parameter', 'parameter "a" is given more than once; give it once'],
    ['a=1&a', 'duplicate-parameter', 'parameter "a" is given more than once; give it once'],
  ])('%s → %s: %s', (search, code, message) => {
    expect(() => parseQuery(search)).toThrow(ServiceError);
    try {
      parseQuery(search);
    } catch (error) {
      expect((error as ServiceError).code).toBe(code);
      expect((error as ServiceError).message).toBe(message);
      expect((error as ServiceError).status).toBe(400);
    }
  });
});
