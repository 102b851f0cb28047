import { assert, assertEquals, assertNotStrictEquals, assertStrictEquals } from "@std/assert";
import type { StreamIntent } from "../../src/http/stream_intent.ts";
import type { Subscriber } from "../../src/subscriber.ts";
import { joinShared, openStream, StreamEnd } from "../../src/transport/stream.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (chunk: Uint8Array | undefined) => new TextDecoder().decode(chunk);

function open(
  maxBuffered = 1024,
  endConnection = true,
): { stream: ReadableStream<Uint8Array>; sub: Subscriber } {
  let sub: Subscriber | undefined;
  const intent: StreamIntent = {
    id: "c1",
    channels: ["x"],
    preamble: bytes(": hi\n\n"),
    maxBuffered,
    attach: (s) => sub = s,
  };
  const stream = openStream(intent, { endConnection });
  return { stream, sub: sub! };
}

Deno.test("events written while the reader is busy reach it as one chunk, in order", async () => {
  const { stream, sub } = open();
  const reader = stream.getReader();
  assertEquals(text((await reader.read()).value), ": hi\n\n");
  for (const n of [1, 2, 3]) sub.write(bytes(`data: ${n}\n\n`));
  assertEquals(text((await reader.read()).value), "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  await reader.cancel();
});

Deno.test("an event written while the reader waits is handed over at once", async () => {
  const { stream, sub } = open();
  const reader = stream.getReader();
  await reader.read(); // the preamble
  const next = reader.read();
  const event = bytes("data: now\n\n");
  sub.write(event);
  assertStrictEquals((await next).value, event);
  await reader.cancel();
});

Deno.test("a stream whose reader falls more than maxBuffered behind is cut off", async () => {
  const { stream, sub } = open(64);
  const reader = stream.getReader();
  await reader.read(); // the preamble
  let reason: string | undefined;
  sub.onClose = (r) => reason = r;
  for (let i = 0; i < 10; i++) sub.write(bytes(`data: ${"x".repeat(20)}\n\n`));
  assertEquals(reason, "slow");
  await reader.read().then(() => {}, () => {});
});

Deno.test("a stream the server closes hands over its last bytes, then errors so that its connection ends", async () => {
  const { stream, sub } = open();
  const reader = stream.getReader();
  await reader.read(); // the preamble
  sub.write(bytes("data: last\n\n"));
  sub.close("shutdown");
  assertEquals(text((await reader.read()).value), "data: last\n\n");
  const end = await reader.read().then(() => undefined, (error) => error);
  assert(end instanceof StreamEnd, `the stream ended with ${end} instead of a StreamEnd`);
  assertEquals(end.reason, "shutdown");
});

Deno.test("a stream closed while its reader waits errors at once", async () => {
  const { stream, sub } = open();
  const reader = stream.getReader();
  await reader.read(); // the preamble
  const next = reader.read();
  sub.close("lifetime");
  const end = await next.then(() => undefined, (error) => error);
  assert(end instanceof StreamEnd, `the stream ended with ${end} instead of a StreamEnd`);
});

Deno.test("joinShared builds one chunk for every caller with the same parts", () => {
  const a = bytes("a");
  const b = bytes("b");
  const first = joinShared([a, b]);
  assertEquals(text(first), "ab");
  assertStrictEquals(joinShared([a, b]), first);
  const other = joinShared([b, a]);
  assertNotStrictEquals(other, first);
  assertEquals(text(other), "ba");
});

Deno.test("without endConnection (an embedding app's server) a closed stream ends cleanly", async () => {
  const { stream, sub } = open(1024, false);
  const reader = stream.getReader();
  await reader.read(); // preamble
  sub.write(bytes("data: last\n\n"));
  sub.close("lifetime");
  assertEquals(text((await reader.read()).value), "data: last\n\n");
  assertEquals((await reader.read()).done, true);
});
