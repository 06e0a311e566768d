// parseStrictJson: the reader of the JSON settings, strict where JSON.parse is lenient.

import { describe, expect, test } from 'vitest';
import { JsonShapeError, parseStrictJson } from '../../src/settings/strict-json.js';

const read = (text: string, maxDepth = 4, maxLength = 10_000) => parseStrictJson(text, { maxDepth, maxLength });
const why = (text: string, maxDepth = 4, maxLength = 10_000) => {
  try {
    read(text, maxDepth, maxLength);
  } catch (error) {
    if (error instanceof JsonShapeError) return error.message;
    throw error;
  }
  return 'read';
};

describe('parseStrictJson(text, { maxDepth, maxLength })', () => {
  test('reads what JSON.parse reads, objects as Maps', () => {
    const text = ' { "a": [1, -2.5e3, true, false, null], "b": { "c": "x\\u00e9\\n\\"\\\\\\/" }, "": {} } ';
    const value = read(text);
    expect(value).toEqual(new Map<string, unknown>([['a', [1, -2500, true, false, null]], ['b', new Map([['c', 'xé\n"\\/']])], ['', new Map()]]));
  });

  test('a __proto__ or constructor key is an ordinary key, touching no prototype', () => {
    const value = read('{"__proto__": {"polluted": true}, "constructor": 1}') as Map<string, unknown>;
    expect([...value.keys()]).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test.each([
    ['{"a": 1, "a": 2}', 'it is not valid JSON: a key given twice in one object at character 10'],
    ['{"a": {"b": {"c": {"d": {}}}}}', 'it is not valid JSON: nesting deeper than 4 levels at character 25'],
    ['{"a": 1,}', 'it is not valid JSON: a key that is not a string at character 9'],
    ["{'a': 1}", 'it is not valid JSON: a key that is not a string at character 2'],
    ['{"a": "line\nbreak"}', 'it is not valid JSON: a control character inside a string at character 12'],
    ['{"a": "\\x41"}', 'it is not valid JSON: a malformed escape at character 8'],
    ['{"a": 01}', 'it is not valid JSON: a missing "," or "}" at character 8'],
    ['{"a": NaN}', 'it is not valid JSON: an unexpected character at character 7'],
    ['{"a": 1} x', 'it is not valid JSON: text after the JSON value at character 10'],
    ['{"a": "unterminated', 'it is not valid JSON: an unterminated string at character 20'],
    ['', 'it is not valid JSON: an unexpected end at character 1'],
  ])('%j is refused: %s', (text, message) => expect(why(text)).toBe(message));

  test('a text over its cap is refused before it is read, by length only', () => {
    expect(why(`{"a": "${'x'.repeat(100)}"}`, 4, 50)).toBe('it is 109 characters long; at most 50');
  });

  test('a million nested brackets are refused at the depth cap, without exhausting the stack', () => {
    expect(why('['.repeat(1_000_000), 3, 2_000_000)).toBe('it is not valid JSON: nesting deeper than 3 levels at character 4');
  });

  test('no message carries a piece of the text', () => {
    const secret = 'hunter2-correct-horse';
    for (const text of [`{"k": "${secret}", "k": 1}`, `{"${secret}": ${secret}}`, `{"a": "${secret}`]) expect(why(text)).not.toContain('hunter2');
  });
});
