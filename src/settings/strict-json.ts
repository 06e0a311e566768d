// A strict JSON reader for the settings an operator writes as JSON (CALLERS, SECRETS). Objects come back as
// Maps, so no key (`__proto__`, `constructor`) reaches a prototype; a key given twice, nesting deeper than the
// setting's shape, or text longer than its cap is refused. Errors give a position only, never the text: these
// settings hold secrets, and an error message reaches whoever triggers a request.

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export type JsonObject = ReadonlyMap<string, JsonValue>;

/** Why a text is not the JSON asked for: its message names a position, never a piece of the text. */
export class JsonShapeError extends Error {
  override readonly name = 'JsonShapeError';
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * `text` as a JSON value; throws JsonShapeError when it is longer than `maxLength` characters, nests objects
 * and arrays deeper than `maxDepth`, repeats a key within one object, or is not JSON.
 */
export function parseStrictJson(text: string, { maxDepth, maxLength }: { maxDepth: number; maxLength: number }): JsonValue {
  if (text.length > maxLength) throw new JsonShapeError(`it is ${text.length} characters long; at most ${maxLength}`);
  let at = 0;
  const fail = (what: string): never => {
    throw new JsonShapeError(`it is not valid JSON: ${what} at character ${at + 1}`);
  };
  const skipSpace = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at]!)) at++;
  };
  const literal = (word: string, value: JsonValue): JsonValue => {
    if (!text.startsWith(word, at)) fail('an unexpected character');
    at += word.length;
    return value;
  };
  const string = (): string => {
    at++; // the opening quote
    let out = '';
    for (;;) {
      if (at >= text.length) fail('an unterminated string');
      const c = text[at]!;
      if (c === '"') break;
      if (c < ' ') fail('a control character inside a string');
      if (c !== '\\') {
        out += c;
        at++;
        continue;
      }
      const e = text[at + 1] ?? '';
      if (e === 'u') {
        const hex = text.slice(at + 2, at + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('a malformed \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        at += 6;
      } else {
        const escaped = ESCAPES[e];
        if (escaped === undefined) fail('a malformed escape');
        out += escaped;
        at += 2;
      }
    }
    at++;
    return out;
  };
  const value = (depth: number): JsonValue => {
    skipSpace();
    const c = text[at];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth} levels`);
      return c === '{' ? object(depth + 1) : array(depth + 1);
    }
    if (c === '"') return string();
    if (c === 't') return literal('true', true);
    if (c === 'f') return literal('false', false);
    if (c === 'n') return literal('null', null);
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (!number) return fail(at >= text.length ? 'an unexpected end' : 'an unexpected character');
    at += number[0].length;
    return Number(number[0]);
  };
  const object = (depth: number): JsonObject => {
    at++;
    const members = new Map<string, JsonValue>();
    skipSpace();
    if (text[at] === '}') return (at++, members);
    for (;;) {
      skipSpace();
      if (text[at] !== '"') fail('a key that is not a string');
      const keyAt = at;
      const key = string();
      if (members.has(key)) {
        at = keyAt;
        fail('a key given twice in one object');
      }
      skipSpace();
      if (text[at] !== ':') fail('a missing ":"');
      at++;
      members.set(key, value(depth));
      skipSpace();
      if (text[at] === '}') return (at++, members);
      if (text[at] !== ',') fail('a missing "," or "}"');
      at++;
    }
  };
  const array = (depth: number): JsonValue[] => {
    at++;
    const items: JsonValue[] = [];
    skipSpace();
    if (text[at] === ']') return (at++, items);
    for (;;) {
      items.push(value(depth));
      skipSpace();
      if (text[at] === ']') return (at++, items);
      if (text[at] !== ',') fail('a missing "," or "]"');
      at++;
    }
  };
  const result = value(0);
  skipSpace();
  if (at < text.length) fail('text after the JSON value');
  return result;
}

/** Whether `value` is a JSON object (a Map here). */
export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return value instanceof Map;
}
