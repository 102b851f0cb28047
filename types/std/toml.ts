// `@std/toml`, typed by ./toml.d.ts (the npm package deno-std has no types).
// @ts-types="./toml.d.ts"
export * from "deno-std/toml/mod.js";
