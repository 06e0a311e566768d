// The allocator settings this project gives `spin up` (and documents for SpinKube's shim): the counterpart of
// scripts/wasmtime.mjs's PER_REQUEST_TUNING for Spin, used by docs/HOSTS.md, the tests' Spin host and the benchmark.

/**
 * Spin 3.x/4.x always runs the pooling allocator where the machine allows and reads its sizes from these
 * variables of its own process environment (spin's crates/core/src/lib.rs: `SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT`
 * defaults to 2 MiB, `SPIN_WASMTIME_TABLE_KEEP_RESIDENT` to 512 KiB). Spin does not turn on wasmtime's
 * PAGEMAP_SCAN, so what it keeps is a prefix of linear memory: a request of this component dirties pages
 * scattered up to 9 MiB into its 10.06 MiB memory (`node bench/dirty-pages.mjs`), so 2 MiB leaves most of them
 * to be handed back and faulted in again. 12 MiB covers the whole memory (the cost: up to 12 MiB resident per
 * slot in use); the default table size already covers the table (61 KiB).
 */
export const SPIN_TUNING_ENV = Object.freeze({ SPIN_WASMTIME_LINEAR_MEMORY_KEEP_RESIDENT: String(12 * 1024 * 1024) });
