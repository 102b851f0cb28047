import { assertEquals } from "@std/assert";
import { parseTornadoPayload, splitLines } from "../../src/brokers/tornado_payload.ts";

Deno.test("a tornado payload with string data becomes that event with that data", () => {
  assertEquals(parseTornadoPayload('["message", "hello"]'), { event: "message", data: "hello" });
});

Deno.test("a tornado payload with a list of strings gives one data line per string", () => {
  assertEquals(parseTornadoPayload('["news", ["a", "b"]]'), { event: "news", data: "a\nb" });
});

Deno.test("tornado data is split into lines as Python's splitlines does", () => {
  assertEquals(
    parseTornadoPayload('["e", "a\\r\\nb\\rc\\u2028d\\u000be\\n"]'),
    { event: "e", data: "a\nb\nc\nd\ne" },
  );
});

Deno.test("splitlines drops one trailing line break and gives no lines for empty text", () => {
  assertEquals([splitLines("a\n\nb\n"), splitLines("")], [["a", "", "b"], []]);
});

Deno.test("a payload that is not a two-element array of event and text is not a tornado payload", () => {
  for (
    const payload of [
      "hello",
      "[1, 2, 3]",
      '["only-event"]',
      '{"event": "e", "data": "d"}',
      '["e", 5]',
      '["e", {"a": 1}]',
      '["e", ["a", 1]]',
      '[5, "d"]',
      '["two\\nlines", "d"]',
    ]
  ) {
    assertEquals(parseTornadoPayload(payload), undefined, payload);
  }
});
