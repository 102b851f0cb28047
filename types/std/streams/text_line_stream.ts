// `@std/streams/text-line-stream`, typed by ./text_line_stream.d.ts (the npm
// package deno-std has no types).
// @ts-types="./text_line_stream.d.ts"
export * from "deno-std/streams/text_line_stream.js";
