/**
 * sse-hub's `main.ts` with one experiment added, for `bench/storm.ts
 * --malloc-trim`: on SIGUSR2 the process calls glibc's `malloc_trim(0)`,
 * which hands every wholly free page of every malloc arena back to the
 * kernel. What RSS that gives back was memory the allocator kept, not memory
 * sse-hub holds. Needs `--allow-ffi`; never part of the product.
 *
 * @module
 */

const libc = Deno.dlopen("libc.so.6", {
  malloc_trim: { parameters: ["usize"], result: "i32" },
});
Deno.addSignalListener("SIGUSR2", () => {
  libc.symbols.malloc_trim(0n);
  console.error("storm_server: malloc_trim(0) done");
});
await import("../main.ts");
