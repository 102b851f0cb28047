// `@std/http/cookie`, typed by ./cookie.d.ts (the npm package deno-std has no types).
// @ts-types="./cookie.d.ts"
export * from "deno-std/http/cookie.js";
