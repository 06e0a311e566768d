// Objects the local host hands a component as instances of preview2-shim's resource classes (jco checks them
// with `instanceof`), with their own methods: request and response bodies, sockets' streams, pollables, errors.

/** jco keeps a host object under this number in an instance's capture table (preview2-shim uses it too). */
const symbolRep = Symbol.for('cabiRep');
/**
 * Reps of the host's own objects: above any id preview2-shim's I/O thread hands out (its objects keep those),
 * below jco's owned-handle flag (2^30). Without one, jco numbers an object from 1, and it could take the key of a
 * preview2-shim object alive at the same time (the stderr stream): the later one would replace the other.
 *
 * Works around jco's lowering of an imported resource (since its capture tables, bytecodealliance/jco PR 393):
 * `const rep = obj[Symbol.for('cabiRep')] || ++captureCnt; captureTable.set(rep, obj)`, one table per resource
 * type, keyed by a counter from 1 that preview2-shim's reps (its I/O thread's `++streamCnt`, `++pollCnt`, also
 * from 1) share, and stored as `rep | (1 << 30)` (`T_FLAG`) in the handle table. No upstream issue names the
 * clash; still needed in jco 1.35.0 with preview2-shim 0.26.0 (the pinned one; 0.26.1 is the newest). It can go
 * when jco keys host objects apart from the reps they carry (check the generated `captureTable` lines).
 */
const REP_BASE = 0x2000_0000;
const REP_SPAN = 0x1000_0000;
let nextRep = 0;

/**
 * An object of `proto`'s class carrying `methods`, with a rep of its own.
 * @template T
 * @param {object} proto
 * @param {T} methods
 * @returns {T}
 */
export function hostResource(proto, methods) {
  const object = Object.create(proto);
  object[symbolRep] = REP_BASE + (nextRep++ % REP_SPAN);
  return Object.assign(object, methods);
}
