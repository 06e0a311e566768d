import { describe, expect, test } from 'vitest';
import { declareMissingResourceClasses } from '../../scripts/methodless-resources.mjs';

// The shape of the generated bindings for instance-network (ComponentizeJS 0.23), trimmed.
const BINDINGS = `
const finalizationRegistry_import$network_0_2_12$network = new FinalizationRegistry((handle) => {
  $resource_import$network_0_2_12$drop$network(handle);
});
const symbolRscHandle = Symbol('handle');
const symbolDispose = Symbol.dispose || Symbol.for('dispose');
function import_wasi_sockets_instance_network_0_2_12$instanceNetwork() {
  var handle1 = $import_wasi_sockets_instance_network_0_2_12$instanceNetwork();
  var rsc0 = new.target === import_network_0_2_12$Network ? this : Object.create(import_network_0_2_12$Network.prototype);
  Object.defineProperty(rsc0, symbolRscHandle, { writable: true, value: handle1});
  finalizationRegistry_import$network_0_2_12$network.register(rsc0, handle1, rsc0);
  return rsc0;
}
`;

describe('declareMissingResourceClasses(bindings)', () => {
  test('declares the class the bindings use but never define, with a dispose that drops the handle', () => {
    const { bindings, added } = declareMissingResourceClasses(BINDINGS);
    expect(added).toEqual(['import_network_0_2_12$Network']);
    expect(bindings).toContain('class import_network_0_2_12$Network {');
    expect(bindings).toContain('$resource_import$network_0_2_12$drop$network(this[symbolRscHandle]);');
    // The patched code runs: instanceNetwork() returns a disposable wrapper instead of throwing ReferenceError.
    const dropped: number[] = [];
    const run = new Function(
      '$import_wasi_sockets_instance_network_0_2_12$instanceNetwork',
      '$resource_import$network_0_2_12$drop$network',
      `${bindings}\nreturn import_wasi_sockets_instance_network_0_2_12$instanceNetwork;`,
    );
    const instanceNetwork = run(() => 7, (h: number) => dropped.push(h)) as () => Disposable;
    instanceNetwork()[Symbol.dispose]();
    expect(dropped).toEqual([7]);
  });

  test('without the workaround the same bindings throw ReferenceError (the bug it works around)', () => {
    const run = new Function('$import_wasi_sockets_instance_network_0_2_12$instanceNetwork', '$resource_import$network_0_2_12$drop$network', `${BINDINGS}\nreturn import_wasi_sockets_instance_network_0_2_12$instanceNetwork;`);
    const instanceNetwork = run(() => 7, () => {}) as () => unknown;
    expect(() => instanceNetwork()).toThrow(ReferenceError);
  });

  test('leaves bindings alone once the generator declares the class itself', () => {
    const fixed = BINDINGS.replace('const symbolDispose', 'class import_network_0_2_12$Network {}\nconst symbolDispose');
    expect(declareMissingResourceClasses(fixed)).toEqual({ bindings: fixed, added: [] });
  });

  test('fails the build loudly when the generated code changes shape', () => {
    expect(() => declareMissingResourceClasses(BINDINGS.replaceAll('$resource_import$network_0_2_12$drop$network', '$drop'))).toThrow(/revisit/);
  });
});
