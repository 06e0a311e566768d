// Reads the parts of spin.toml the tests check: the tables of `key = value` lines it is written in (inline
// tables, strings, whole numbers, booleans, string arrays). Not a TOML parser: a line it does not
// understand throws, so the manifest cannot drift into a form the checks would misread.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type ManifestValue = string | number | boolean | string[] | Record<string, string | number | boolean>;

const root = fileURLToPath(new URL('../..', import.meta.url));
const STRING = /^"((?:[^"\\]|\\.)*)"$/;

function scalar(text: string): string | number | boolean {
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^[0-9]+$/.test(text)) return Number(text);
  const match = STRING.exec(text);
  if (!match) throw new Error(`spin.toml: a value the test reader does not understand: ${text}`);
  return JSON.parse(`"${match[1]}"`) as string;
}

function value(text: string): ManifestValue {
  if (text.startsWith('{')) {
    const body = /^\{(.*)\}$/.exec(text)?.[1] ?? '';
    return Object.fromEntries(
      body
        .split(/,(?=\s*[a-z_]+\s*=)/)
        .filter((part) => part.trim() !== '')
        .map((part) => {
          const [key, ...rest] = part.split('=');
          return [key!.trim(), scalar(rest.join('=').trim())];
        }),
    );
  }
  if (text.startsWith('[')) return [...text.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string);
  return scalar(text);
}

/** spin.toml as table name → key → value (`[[trigger.http]]` tables are left out). */
export function readSpinManifest(text = readFileSync(`${root}spin.toml`, 'utf8')): Map<string, Map<string, ManifestValue>> {
  const tables = new Map<string, Map<string, ManifestValue>>([['', new Map()]]);
  let current: Map<string, ManifestValue> | undefined = tables.get('');
  // Multi-line arrays end on a line of their own (their items may hold brackets: "tcp://[::1]:*").
  const lines = text.replace(/\[\s*\n([\s\S]*?)\n\s*\]/g, (_, items: string) => `[${items.replace(/\s*\n\s*/g, ' ')}]`).split('\n');
  for (const raw of lines) {
    const line = raw.replace(/^\s+|\s+$/g, '');
    if (line === '' || line.startsWith('#')) continue;
    let match: RegExpExecArray | null;
    if (/^\[\[.*\]\]$/.test(line)) current = undefined;
    else if ((match = /^\[([a-z0-9_.-]+)\]$/.exec(line))) tables.set(match[1]!, (current = new Map()));
    else if ((match = /^([a-z0-9_-]+)\s*=\s*(.+)$/.exec(line))) current?.set(match[1]!, value(match[2]!));
    else throw new Error(`spin.toml: a line the test reader does not understand: ${line}`);
  }
  return tables;
}
