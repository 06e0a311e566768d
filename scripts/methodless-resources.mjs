// Workaround for ComponentizeJS issue 221 (bytecodealliance/ComponentizeJS#221, "ReferenceError when resource
// has no functions", open): bindings for a methodless resource (wasi:sockets/network.network) reference a wrapper
// class they never declare, so the first instanceNetwork() throws ReferenceError. Still needed in
// componentize-js 0.23.0, the newest; it can go once a release declares the class (the build then
// prints "the methodless-resources workaround declared no class", scripts/build.mjs).
// This is the one place the workaround lives; test/unit/methodless-resources.test.ts and every
// end-to-end socket test fail if it stops working.


/**
 * Declares every resource class the generated bindings construct but never define. Each class gets
 * the same `[Symbol.dispose]` the generator writes for other resources (unregister, drop the handle).
 * Returns the patched bindings and the names of the classes it added.
 * @param {string} bindings
 * @returns {{ bindings: string, added: string[] }}
 */
export function declareMissingResourceClasses(bindings) {
  const referenced = new Set([...bindings.matchAll(/new\.target === (import_([A-Za-z0-9]+)_([0-9_]+)\$([A-Za-z0-9]+)) \?/g)].map((m) => String(m[1])));
  /** @type {string[]} */
  const added = [];
  let declarations = '';
  for (const className of referenced) {
    if (new RegExp(`class ${className.replace(/\$/g, '\\$')}\\b`).test(bindings)) continue;
    const [, iface, version, resource = ''] = /** @type {RegExpExecArray} */ (/^import_([A-Za-z0-9]+)_([0-9_]+)\$([A-Za-z0-9]+)$/.exec(className));
    const lower = resource.slice(0, 1).toLowerCase() + resource.slice(1);
    const registry = `finalizationRegistry_import$${iface}_${version}$${lower}`;
    const drop = `$resource_import$${iface}_${version}$drop$${lower}`;
    for (const name of [registry, drop]) {
      if (!bindings.includes(name)) {
        throw new Error(`methodless-resources workaround: expected ${name} in the generated bindings for ${className}; the bindings generator changed, revisit scripts/methodless-resources.mjs`);
      }
    }
    declarations += `
class ${className} {
  [symbolDispose]() {
    ${registry}.unregister(this);
    ${drop}(this[symbolRscHandle]);
    this[symbolRscHandle] = undefined;
  }
}
`;
    added.push(className);
  }
  if (added.length === 0) return { bindings, added };
  const anchor = /^const symbolDispose = .*$/m;
  if (!anchor.test(bindings)) {
    throw new Error('methodless-resources workaround: no `const symbolDispose` line in the bindings; revisit scripts/methodless-resources.mjs');
  }
  return { bindings: bindings.replace(anchor, (line) => `${line}\n${declarations}`), added };
}

/** What the workaround did during the build in progress: each install starts a new report. */
let report = { added: /** @type {string[]} */ ([]) };

/**
 * Wraps the splicer's spliceBindings in the very module instance componentize-js uses, so the
 * generated bindings are patched before they are snapshotted into the component. Call it before each
 * componentize run: it returns that run's report (the classes it declared), filled in as componentize runs.
 * @returns {Promise<{ added: string[] }>}
 */
export async function installMethodlessResourceWorkaround() {
  // componentize.js imports '../lib/spidermonkey-embedding-splicer.js': the same URL gives the same instance.
  const entry = import.meta.resolve('@bytecodealliance/componentize-js');
  const { splicer } = await import(new URL('../lib/spidermonkey-embedding-splicer.js', entry).href);
  report = { added: [] };
  const original = splicer.spliceBindings;
  if (original.__methodlessResourcesPatched) return report;
  splicer.spliceBindings = (/** @type {unknown[]} */ ...args) => {
    const result = original.apply(splicer, args);
    const patched = declareMissingResourceClasses(result.jsBindings);
    report.added.push(...patched.added);
    return { ...result, jsBindings: patched.bindings };
  };
  splicer.spliceBindings.__methodlessResourcesPatched = true;
  return report;
}
