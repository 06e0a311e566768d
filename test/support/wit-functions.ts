// Reads function names out of WIT text and out of a component's printed type section, to compare the two.

/** `wasi:sockets/tcp` → function name (`[method]tcp-socket.start-connect`) → whether it is `@unstable`. */
export type InterfaceFunctions = Map<string, Map<string, { unstable: boolean }>>;

/** Functions per interface of a WIT package text, with their `@unstable` gates (an unstable interface gates all its functions). */
export function witFunctions(text: string): InterfaceFunctions {
  const pkg = /^\s*package\s+([a-z0-9-]+:[a-z0-9-]+)(@[^;\s]+)?;/m.exec(text)?.[1];
  if (!pkg) throw new Error('no package line in WIT text');
  const result: InterfaceFunctions = new Map();
  const scopes: { kind: 'interface' | 'resource' | 'world' | 'other'; name: string; unstable: boolean }[] = [];
  let pendingUnstable = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('@unstable')) {
      pendingUnstable = true;
      continue;
    }
    if (line.startsWith('@')) continue;
    const iface = scopes.find((s) => s.kind === 'interface');
    const gated = pendingUnstable || scopes.some((s) => s.unstable);
    let match: RegExpExecArray | null;
    if ((match = /^interface\s+([a-z0-9-]+)\s*\{/.exec(line))) {
      scopes.push({ kind: 'interface', name: match[1]!, unstable: pendingUnstable });
      result.set(`${pkg}/${match[1]}`, new Map());
    } else if ((match = /^resource\s+([a-z0-9-]+)\s*\{/.exec(line))) {
      scopes.push({ kind: 'resource', name: match[1]!, unstable: pendingUnstable });
    } else if ((match = /^world\s+([a-z0-9-]+)\s*\{/.exec(line))) {
      scopes.push({ kind: 'world', name: match[1]!, unstable: pendingUnstable });
    } else if (/\{\s*$/.test(line)) {
      scopes.push({ kind: 'other', name: '', unstable: false });
    } else if (line.startsWith('}')) {
      scopes.pop();
    } else if (iface && (match = /^(%?[a-z0-9-]+):\s*(static\s+)?(async\s+)?func\b/.exec(line))) {
      const resource = scopes.at(-1)?.kind === 'resource' ? scopes.at(-1)!.name : undefined;
      const name = match[1]!.replace(/^%/, '');
      const full = resource ? `[${match[2] ? 'static' : 'method'}]${resource}.${name}` : name;
      result.get(`${pkg}/${iface.name}`)!.set(full, { unstable: gated });
    } else if (iface && /^constructor\s*\(/.test(line)) {
      const resource = scopes.at(-1)!.name;
      result.get(`${pkg}/${iface.name}`)!.set(`[constructor]${resource}`, { unstable: gated });
    }
    pendingUnstable = false;
  }
  return result;
}

/**
 * Imported interfaces of a component and the functions each exports, read from the component-level
 * type section of `jco print` (WAT). Interface names keep their version: `wasi:io/poll@0.2.12`. Types are
 * named (`$ty-…`, as componentize-js writes them) or only numbered (as `wac` writes a composed component).
 */
export function componentImports(wat: string): Map<string, string[]> {
  const types = new Map<string, string[]>();
  const imports = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of wat.split('\n')) {
    if (line.startsWith('  (core module') || line.startsWith('  (component')) break;
    let match: RegExpExecArray | null;
    if ((match = /^ {2}\(type (?:\$ty-\S+ )?\(;(\d+);\)/.exec(line))) {
      current = match[1]!;
      types.set(current, []);
      const name = /^ {2}\(type \$ty-(\S+) /.exec(line)?.[1];
      if (name) types.set(`$ty-${name}`, types.get(current)!);
    } else if (current && (match = /^ {6}\(export \(;\d+;\) "([^"]+)" \(func /.exec(line))) {
      types.get(current)!.push(match[1]!);
    } else if ((match = /^ {2}\(import "([^"]+)" \(instance .*\(type (\$ty-\S+|\d+)\)\)\)$/.exec(line))) {
      imports.set(match[1]!, types.get(match[2]!) ?? []);
      current = undefined;
    } else if (/^ {2}\(import "/.test(line)) {
      throw new Error(`an import this reader does not understand: ${line}`);
    }
  }
  return imports;
}
