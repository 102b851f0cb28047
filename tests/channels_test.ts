import { assertEquals, assertThrows } from "@std/assert";
import { parseChannelList, validateChannel } from "../src/channels.ts";
import { ProtocolError } from "../src/errors.ts";

Deno.test("repeated and comma-separated channel values are split, trimmed and de-duplicated", () => {
  assertEquals(parseChannelList(["a, b", "c", " a "], 32), ["a", "b", "c"]);
});

Deno.test("an empty channel name is rejected", () => {
  assertThrows(() => parseChannelList(["a,,b"], 32), ProtocolError, "empty");
  assertThrows(() => parseChannelList([" "], 32), ProtocolError, "empty");
});

Deno.test("a channel name over 200 characters is rejected with its length", () => {
  assertEquals(validateChannel("x".repeat(200)).length, 200);
  assertThrows(() => validateChannel("x".repeat(201)), ProtocolError, "201");
});

Deno.test("control characters in a channel name are rejected", () => {
  for (const name of ["a\nb", "a\rb", "a\u0000", "a\u007f", "a\u0085"]) {
    assertThrows(() => validateChannel(name), ProtocolError, "control");
  }
});

Deno.test("more channels than the limit are rejected naming the limit", () => {
  assertThrows(() => parseChannelList(["a,b,c"], 2), ProtocolError, "at most 2");
});

Deno.test("channel names starting with sse-hub: are kept for sse-hub's own broker channels", () => {
  assertThrows(() => validateChannel("sse-hub:events:{news}"), ProtocolError, "sse-hub:");
  assertEquals(validateChannel("sse-hub-news"), "sse-hub-news");
});
