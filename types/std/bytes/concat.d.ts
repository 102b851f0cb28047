// Declarations for `@std/bytes/concat` as shipped by the npm package
// deno-std@1.4.0 (bytes/concat.js), which has no types of its own.

/** One new array holding the bytes of every buffer in order. */
export function concat(buffers: readonly Uint8Array[]): Uint8Array<ArrayBuffer>;
