// `@std/http/etag`, typed by ./etag.d.ts (the npm package deno-std has no types).
// @ts-types="./etag.d.ts"
export * from "deno-std/http/etag.js";
