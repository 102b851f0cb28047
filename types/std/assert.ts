// `@std/assert`, typed by ./assert.d.ts (the npm package deno-std has no types).
// @ts-types="./assert.d.ts"
export * from "deno-std/assert/mod.js";
