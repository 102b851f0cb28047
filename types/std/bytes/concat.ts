// `@std/bytes/concat`, typed by ./concat.d.ts (the npm package deno-std has no types).
// @ts-types="./concat.d.ts"
export * from "deno-std/bytes/concat.js";
