import { assertEquals, assertThrows } from "@std/assert";
import { ServerSentEventParseStream } from "@std/http/server-sent-event-parse-stream";
import {
  encodeComment,
  encodeEvent,
  encodeEventBody,
  encodeIdEnd,
  encodePreamble,
} from "../src/encode.ts";
import { ProtocolError } from "../src/errors.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function parse(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  return await Array.fromAsync(
    ReadableStream.from([bytes]).pipeThrough(new ServerSentEventParseStream()),
  );
}

Deno.test("an event is framed with id, event and data lines and a blank line", () => {
  assertEquals(
    text(encodeEvent({ id: "5-0", event: "news", data: "hello" })),
    "id: 5-0\nevent: news\ndata: hello\n\n",
  );
});

Deno.test("an event with retry carries a retry: line before its data", () => {
  assertEquals(
    text(encodeEvent({ id: "5-1", retry: 3000, data: "hello" })),
    "id: 5-1\nretry: 3000\ndata: hello\n\n",
  );
});

Deno.test("data is split on LF, CR and CRLF into several data lines", async () => {
  const bytes = encodeEvent({ data: "a\nb\rc\r\nd" });
  assertEquals(text(bytes), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  assertEquals(await parse(bytes), [{ data: "a\nb\nc\nd" }]);
});

Deno.test("empty lines inside data survive the round trip", async () => {
  assertEquals(await parse(encodeEvent({ data: "a\n\nb\n" })), [{ data: "a\n\nb\n" }]);
});

Deno.test("unicode data is encoded as UTF-8 and decodes unchanged", async () => {
  const data = "héllo ✓ 😀 \u2028 тест";
  const bytes = encodeEvent({ id: "1-0", data });
  assertEquals(bytes.length, new TextEncoder().encode(`id: 1-0\ndata: ${data}\n\n`).length);
  assertEquals(await parse(bytes), [{ id: "1-0", data }]);
});

Deno.test("a leading space in data is kept by the space after the colon", async () => {
  assertEquals(await parse(encodeEvent({ data: " indented" })), [{ data: " indented" }]);
});

Deno.test("an event type or id holding CR or LF is rejected, never written", () => {
  assertThrows(() => encodeEvent({ event: "a\nid: 9", data: "x" }), ProtocolError, "event");
  assertThrows(() => encodeEvent({ event: "a\rb", data: "x" }), ProtocolError, "event");
  assertThrows(() => encodeEvent({ id: "1\n", data: "x" }), ProtocolError, "id");
});

Deno.test("a comment is written as colon lines that parsers ignore as data", async () => {
  const bytes = encodeComment("heartbeat");
  assertEquals(text(bytes), ": heartbeat\n\n");
  assertEquals(await parse(bytes), [{ comment: " heartbeat" }]);
});

Deno.test("the preamble carries the retry delay and a comment", async () => {
  assertEquals(await parse(encodePreamble(2500, "hi")), [{ retry: 2500, comment: " hi" }]);
});

Deno.test("an event body ended with an id line reads as one event with that id", () => {
  const body = encodeEventBody({ event: "note", retry: 500, data: "a\nb" });
  assertEquals(
    new TextDecoder().decode(encodeIdEnd(body, "5-0@news")),
    "event: note\nretry: 500\ndata: a\ndata: b\nid: 5-0@news\n\n",
  );
});

Deno.test("an id line with a line break is refused", () => {
  assertThrows(
    () => encodeIdEnd(encodeEventBody({ data: "x" }), "1-0\ndata: forged"),
    ProtocolError,
  );
});
