// What a JSON-schema validation failure means, said once: the deepest failure that fits the value's shape, as
// the message of a 400 (`steps/0/send/hex: is not valid hex …`), derived from the schema node that failed.

import type { OutputUnit } from '@cfworker/json-schema';
import { shown } from '../core/errors.js';

/** A schema node as far as messages read it. */
interface Node {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  title?: string;
  description?: string;
  pattern?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  contains?: Node;
  oneOf?: Node[];
  anyOf?: Node[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  maxContains?: number;
}

/** Keywords that only say "something inside did not match" (or, for `false`, repeat what `additionalProperties` says). */
const WRAPPERS: ReadonlySet<string> = new Set(['properties', 'items', 'prefixItems', 'allOf', '$ref', 'if', 'then', 'else', 'false']);
/** Keywords of a branch that say the value has another shape than the branch wants. */
const SHAPE_KEYWORDS = ['type', 'const', 'enum'];

/** The segments of a JSON pointer as cfworker writes them (`#/steps/0`, URI-encoded, `~1` for `/`). */
function segments(pointer: string): string[] {
  const path = pointer.replace(/^#\/?/, '');
  if (path === '') return [];
  return path.split('/').map((s) => decodeURI(s).replace(/%23/g, '#').replace(/~1/g, '/').replace(/~0/g, '~'));
}

function at(root: unknown, pointer: string): unknown {
  let value = root;
  for (const segment of segments(pointer)) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  return value;
}

/** A value as a message names it: its type, and the value itself when short. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${shown(value, 40)}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value} (not whole)`;
  return String(value);
}

const article = (type: string) => (type === 'integer' ? 'a whole number' : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);
const names = (keys: string[]) => (keys.length <= 1 ? keys.join('') : `${keys.slice(0, -1).join(', ')} and ${keys.at(-1)}`);

/** What a branch of oneOf/anyOf wants, as a message says it: `true`, `a boolean`, `an object with server_name`. */
function wanted(node: Node): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return `one of ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const types = [node.type ?? 'any value'].flat();
  return types
    .map((type) => {
      if (type === 'array' && node.title) return node.title;
      if (type !== 'object' || !node.properties) return article(type);
      const keys = Object.keys(node.properties);
      return node.maxProperties === 1 && keys.length > 1 ? `an object with one of ${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}` : `an object with ${names(keys)}`;
    })
    .join(' or ');
}

/** The shapes of a oneOf/anyOf's branches as one alternative (`true or an object with server_name`). */
const wantedOf = (branches: Node[]) => {
  const each = branches.map(wanted);
  return each.join(each.some((w) => w.includes(' or ')) ? ', or ' : ' or ');
};

const range = (min: number | undefined, max: number | undefined) =>
  min !== undefined && max !== undefined ? `${min} to ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;

/** The message of one failed keyword on `value`, from the schema node that holds it; undefined when another keyword there says it. */
function detail(error: OutputUnit, node: Node, value: unknown): string | undefined {
  switch (error.keyword) {
    case 'type':
      return `is ${describe(value)}; give ${wanted(node)}`;
    case 'const':
    case 'enum':
      return `is ${describe(value)}; give ${wanted(node)}`;
    case 'pattern':
      return node.title ? `is not valid ${node.title}` : `does not match the pattern ${node.pattern}`;
    case 'minLength':
    case 'maxLength':
    {
      const length = [...String(value)].length;
      return `${length === 0 ? 'is empty' : `is ${length} character${length === 1 ? '' : 's'} long`}; give ${range(node.minLength, node.maxLength)} characters`;
    }
    case 'minimum':
    case 'maximum':
      return `is ${String(value)}; give ${range(node.minimum, node.maximum)}`;
    case 'minItems':
    case 'maxItems':
      return `has ${(value as unknown[]).length} items; give ${range(node.minItems, node.maxItems)}`;
    case 'minProperties':
    case 'maxProperties': {
      const known = Object.keys(node.properties ?? {});
      const given = Object.keys(value as object).filter((key) => known.includes(key));
      // Only unknown fields broke the count: `additionalProperties` names them, and says it better.
      const fits = given.length >= (node.minProperties ?? 0) && given.length <= (node.maxProperties ?? Infinity);
      if (fits && node.properties) return undefined;
      const exactly = node.minProperties === node.maxProperties ? `exactly ${node.minProperties === 1 ? 'one' : node.minProperties} of` : `${range(node.minProperties, node.maxProperties)} of`;
      return `gives ${given.length === 0 ? 'none' : names(given)}; give ${exactly} ${names(known)}`;
    }
    case 'required': {
      const missing = (node.required ?? []).filter((key) => !Object.hasOwn(value as object, key));
      return `misses the required field${missing.length > 1 ? 's' : ''} ${names(missing.map((key) => JSON.stringify(key)))}`;
    }
    case 'additionalProperties': {
      const unknown = /Property "(.*)" does not match/.exec(error.error)?.[1] ?? '';
      return `has an unknown field ${JSON.stringify(unknown)} (the fields are ${names(Object.keys(node.properties ?? {}))})`;
    }
    case 'not':
      // The field is named in the location (a `not` of a required field); the schema says why it is ruled out.
      return node.description ?? 'is not allowed here';
    case 'maxContains': {
      const contains = node.contains ?? {};
      const matching = (value as unknown[]).flatMap((item, i) => (contains.required?.every((key) => item !== null && typeof item === 'object' && Object.hasOwn(item, key)) ? [i] : []));
      const what = contains.required ? `have ${names(contains.required)}` : 'match';
      return `items ${names(matching.map(String))} ${what}; at most ${node.maxContains} may${contains.description ? ` (${contains.description})` : ''}`;
    }
    default:
      return error.error.replace(/\.$/, '');
  }
}

/** The schema node at a keyword location (`#/properties/steps/maxItems` → the node holding `maxItems`). */
function nodeOf(schema: unknown, keywordLocation: string): Node {
  return (at(schema, keywordLocation.replace(/\/[^/]*$/, '')) ?? {}) as Node;
}

/** The branches of a oneOf/anyOf failure whose values are of the branch's shape; the others' errors are dropped. */
function fittingBranches(errors: OutputUnit[], schema: unknown, input: unknown): OutputUnit[] {
  let kept = errors;
  for (const combinator of errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')) {
    if (!kept.includes(combinator)) continue;
    const prefix = `${combinator.keywordLocation}/`;
    const branchOf = (e: OutputUnit) => (e.keywordLocation.startsWith(prefix) ? Number(e.keywordLocation.slice(prefix.length).split('/')[0]) : undefined);
    const branches = (at(schema, combinator.keywordLocation) as Node[] | undefined) ?? [];
    const misfit = new Set(
      kept.filter((e) => SHAPE_KEYWORDS.some((keyword) => e.keywordLocation === `${prefix}${branchOf(e)}/${keyword}`)).map((e) => branchOf(e)),
    );
    // Several branches matched (oneOf): no branch failed, and the combinator's own message says so.
    if (!kept.some((e) => branchOf(e) !== undefined)) continue;
    if (misfit.size < branches.length) {
      // The value has the shape of a branch: what failed inside that branch is the message.
      kept = kept.filter((e) => e !== combinator && !misfit.has(branchOf(e)));
    } else {
      // No branch has the value's shape: one failure, saying which shapes would do.
      const value = at(input, combinator.instanceLocation);
      const shape: OutputUnit = { ...combinator, keyword: 'shape', error: `is ${describe(value)}; give ${wantedOf(branches)}` };
      kept = kept.filter((e) => branchOf(e) === undefined && e !== combinator).concat(shape);
    }
  }
  return kept;
}

/**
 * The message of a failed validation of `input` against `schema`: `field: what is wrong`, for the deepest failure
 * (a wrapper such as `properties` only says something inside it failed), several at one place joined with `;`.
 */
export function schemaFailureMessage(schema: unknown, errors: readonly OutputUnit[], input: unknown): string {
  const leaves = fittingBranches([...errors], schema, input).filter((e) => !WRAPPERS.has(e.keyword));
  if (leaves.length === 0) return `the body: ${errors.at(-1)?.error ?? 'does not match the schema'}`;
  const depth = (e: OutputUnit) => segments(e.instanceLocation).length;
  const deepest = Math.max(...leaves.map(depth));
  // One place is named: the first of the deepest (two fields wrong at once are told one at a time).
  const location = leaves.find((e) => depth(e) === deepest)!.instanceLocation;
  const here = leaves.filter((e) => e.instanceLocation === location);
  // A `not` is read from the schema it rules out; every other keyword from the node that holds it.
  const nodeFor = (e: OutputUnit) => (e.keyword === 'not' ? ((at(schema, e.keywordLocation) ?? {}) as Node) : nodeOf(schema, e.keywordLocation));
  const details = here.map((e) => (e.keyword === 'shape' ? e.error : detail(e, nodeFor(e), at(input, location))));
  // A `not` of a required field names the field itself (`steps/0/starttls`), where it was given.
  const notField = here[0]!.keyword === 'not' ? nodeFor(here[0]!).required?.[0] : undefined;
  const field = [...segments(location), ...(notField ? [notField] : [])].join('/') || 'the body';
  return `${field}: ${[...new Set(details.filter((d) => d !== undefined))].join('; ')}`;
}
