import { assertEquals } from "@std/assert";
import { parseChannelEnvelope, parseEnvelope } from "../../src/brokers/redis_codec.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("a single-Redis envelope becomes an event with its id and retry", () => {
  const event = parseEnvelope('5-0 3000\n["a","b"]\nnote\nhi')!;
  assertEquals([event.id, event.retry, event.channels, event.event], [
    "5-0",
    3000,
    ["a", "b"],
    "note",
  ]);
  assertEquals(text(event.bytes), "id: 5-0\nevent: note\nretry: 3000\ndata: hi\n\n");
});

Deno.test("a cluster envelope becomes the copy on its channel, with the position before it", () => {
  const parsed = parseChannelEnvelope('7-1 7-0\n["a","b"]\n\nline1\nline2', "b")!;
  assertEquals([parsed.copy.id, parsed.copy.channel, parsed.prev], ["7-1", "b", "7-0"]);
  assertEquals(text(parsed.copy.bytes), "data: line1\ndata: line2\n");
});

Deno.test("malformed envelopes are refused rather than half-read", () => {
  for (const bad of ["7-1\n[]\n\n", "x 7-0\n[]\n\nd", '7-1 7-0\n{"a":1}\n\nd', "7-1 7-0\n[]"]) {
    assertEquals(parseChannelEnvelope(bad, "a"), null, bad);
  }
  assertEquals(parseEnvelope("5-0\nnot json\n\nd"), null);
});
