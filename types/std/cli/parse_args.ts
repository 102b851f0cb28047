// `@std/cli/parse-args`, typed by ./parse_args.d.ts (the npm package deno-std has no types).
// @ts-types="./parse_args.d.ts"
export * from "deno-std/cli/parse_args.js";
