// `@std/http/server-sent-event-parse-stream`, typed by
// ./server_sent_event_parse_stream.d.ts (the npm package deno-std has no types).
// @ts-types="./server_sent_event_parse_stream.d.ts"
export * from "deno-std/http/server_sent_event_parse_stream.js";
