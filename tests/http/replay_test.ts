import { assertEquals } from "@std/assert";
import {
  assertMultiChannelCursor,
  assertQuietChannelSurvivesBusyOne,
  publishOk,
} from "../_helpers/broker_contract.ts";
import { openSse, type SseStream, startTestServer } from "../_helpers/server.ts";

/** The next event, which must be a gap: its parsed data. */
async function gapOf(sse: SseStream): Promise<Record<string, unknown>> {
  const event = await sse.nextEvent();
  assertEquals(event.event, "sse-hub.gap");
  assertEquals(event.id, undefined, "a gap event must not move the client's last id");
  return JSON.parse(event.data!);
}

Deno.test("a quiet channel's events survive 1,500 events on a busy one", async () => {
  await using t = await startTestServer();
  await assertQuietChannelSurvivesBusyOne({ first: t.origin, second: t.origin });
});

Deno.test("one Last-Event-ID is an exact cursor over several channels", async () => {
  await using t = await startTestServer();
  await assertMultiChannelCursor({ first: t.origin, second: t.origin });
});

Deno.test("an id older than anything this history held gets unknown-id, then what it holds", async () => {
  await using t = await startTestServer();
  await publishOk(t.origin, "a", "kept");
  await using sse = await openSse(`${t.origin}/?channels=a`, { "last-event-id": "1-0" });
  assertEquals(await gapOf(sse), { reason: "unknown-id", channels: ["a"], lastEventId: "1-0" });
  assertEquals((await sse.nextEvent()).data, "kept");
});

Deno.test("an id from before a restart of the memory broker gets unknown-id", async () => {
  let id: string;
  {
    await using before = await startTestServer();
    id = await publishOk(before.origin, "a", "gone with the process");
  }
  await using after = await startTestServer();
  await using sse = await openSse(`${after.origin}/?channels=a`, { "last-event-id": id });
  assertEquals((await gapOf(sse)).reason, "unknown-id");
});

Deno.test("an id from the future gets unknown-id, and live events follow", async () => {
  await using t = await startTestServer();
  const future = `${Date.now() + 86_400_000}-0`;
  await using sse = await openSse(`${t.origin}/?channels=a`, { "last-event-id": future });
  assertEquals(await gapOf(sse), { reason: "unknown-id", channels: ["a"], lastEventId: future });
  await publishOk(t.origin, "a", "live");
  assertEquals((await sse.nextEvent()).data, "live");
});

Deno.test("an id that is not an sse-hub id gets invalid-id, then everything held", async () => {
  await using t = await startTestServer();
  await publishOk(t.origin, "a", "held");
  const uuid = "0b7e6f0e-8f55-4a42-9f43-5b0a6f8c2d11";
  await using sse = await openSse(`${t.origin}/?channels=a`, { "last-event-id": uuid });
  assertEquals(await gapOf(sse), { reason: "invalid-id", channels: ["a"], lastEventId: uuid });
  assertEquals((await sse.nextEvent()).data, "held");
});

Deno.test("an id still covered gets exactly what followed it, with no gap", async () => {
  await using t = await startTestServer({ historySize: 2 });
  const ids = [];
  for (const data of ["1", "2", "3"]) ids.push(await publishOk(t.origin, "a", data));
  await using sse = await openSse(`${t.origin}/?channels=a`, { "last-event-id": ids[0] });
  const event = await sse.nextEvent();
  assertEquals([event.event, event.data], [undefined, "2"]);
});
