import { assert, assertEquals } from "@std/assert";
import { openSse, publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("a stream answers with SSE headers, then a retry line and a comment", async () => {
  await using t = await startTestServer({ retryMs: 1500 });
  await using sse = await openSse(`${t.origin}/?channels=news`);
  assertEquals(sse.response.status, 200);
  assertEquals(sse.response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assertEquals(sse.response.headers.get("cache-control"), "no-cache");
  assertEquals(sse.response.headers.get("x-accel-buffering"), "no");
  assertEquals(sse.response.headers.get("access-control-allow-origin"), "*");
  assertEquals(await sse.next(), { retry: 1500, comment: " sse-hub" });
});

Deno.test("one connection receives events from each of its channels", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=news,user.42`);
  await waitFor(() => t.server.hub.subscribers("user.42") === 1, "subscription");
  await publishJson(t.origin, { channel: "news", data: "n1" });
  await publishJson(t.origin, { channel: "other", data: "ignored" });
  await publishJson(t.origin, { channel: "user.42", data: "u1", event: "dm" });
  const [a, b] = await sse.events(2);
  assertEquals([a.data, b.data, b.event], ["n1", "u1", "dm"]);
});

Deno.test("repeated channels parameters work as cyclone-sse sent them", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a&channels=b&uuid=123&_=99`);
  await waitFor(() => t.server.hub.subscribers("b") === 1, "subscription");
  assertEquals(t.server.hub.stats().sort(), [["a", 1], ["b", 1]]);
  await publishJson(t.origin, { channel: ["a", "b"], data: "both" });
  assertEquals((await sse.nextEvent()).data, "both");
});

Deno.test("a subscribe request without channels is refused with 400 and a hint", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/`);
  assertEquals(response.status, 400);
  const body = await response.json();
  assert(body.error.includes("?channels="), body.error);
});

Deno.test("without channels, --default-channel is used", async () => {
  await using t = await startTestServer({ defaultChannel: "sse" });
  await using sse = await openSse(`${t.origin}/`);
  assertEquals(sse.response.status, 200);
  await waitFor(() => t.server.hub.subscribers("sse") === 1, "subscription");
});

Deno.test("invalid channel names and too many channels get 400 naming the problem", async () => {
  await using t = await startTestServer({ maxChannels: 3 });
  const cases: [string, string][] = [
    ["channels=a,,b", "empty"],
    [`channels=${"x".repeat(201)}`, "201 characters"],
    ["channels=a%0Ab", "control character"],
    ["channels=a,b,c,d", "at most 3"],
  ];
  for (const [query, message] of cases) {
    const response = await fetch(`${t.origin}/?${query}`);
    assertEquals(response.status, 400, query);
    const body = await response.json();
    assert(body.error.includes(message), `${query}: ${body.error}`);
  }
  assertEquals(t.server.hub.subscriberCount, 0);
});

Deno.test("the subscribe stream is served under --path", async () => {
  await using t = await startTestServer({ path: "/sse/" });
  const root = await fetch(`${t.origin}/?channels=a`);
  await root.body?.cancel();
  assertEquals(root.status, 404);
  await using sse = await openSse(`${t.origin}/sse/?channels=a`);
  assertEquals(sse.response.status, 200);
});

async function publishNumbered(origin: string, channel: string, from: number, to: number) {
  const ids: string[] = [];
  for (let i = from; i <= to; i++) {
    const { body } = await publishJson(origin, { channel, data: `m${i}` });
    ids.push(body.id as string);
  }
  return ids;
}

Deno.test("reconnecting with a Last-Event-ID header replays exactly the missed events", async () => {
  await using t = await startTestServer();
  const ids = await publishNumbered(t.origin, "a", 1, 5);
  await publishJson(t.origin, { channel: "b", data: "not mine" });
  await using sse = await openSse(`${t.origin}/?channels=a`, { "Last-Event-ID": ids[1] });
  const replayed = await sse.events(3);
  assertEquals(replayed.map((e) => e.data), ["m3", "m4", "m5"]);
  assertEquals(replayed.map((e) => e.id), ids.slice(2));
  await publishJson(t.origin, { channel: "a", data: "live" });
  assertEquals((await sse.nextEvent()).data, "live");
});

Deno.test("the lastEventId and last-event-id query parameters replay like the header", async () => {
  await using t = await startTestServer();
  const ids = await publishNumbered(t.origin, "a", 1, 3);
  for (const name of ["lastEventId", "last-event-id"]) {
    await using sse = await openSse(`${t.origin}/?channels=a&${name}=${ids[0]}`);
    assertEquals((await sse.events(2)).map((e) => e.data), ["m2", "m3"], name);
  }
});

Deno.test("a Last-Event-ID older than what the channel kept gets an evicted gap before what remains", async () => {
  await using t = await startTestServer({ historySize: 2 });
  const ids = await publishNumbered(t.origin, "a", 1, 4);
  await using sse = await openSse(`${t.origin}/?channels=a`, { "Last-Event-ID": ids[0] });
  const gap = await sse.nextEvent();
  assertEquals(gap.event, "sse-hub.gap");
  assertEquals(JSON.parse(gap.data!), { reason: "evicted", channels: ["a"], lastEventId: ids[0] });
  assertEquals((await sse.events(2)).map((e) => e.data), ["m3", "m4"]);
});

Deno.test("heartbeat comments arrive on an idle stream", async () => {
  await using t = await startTestServer({ heartbeatMs: 50 });
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await sse.next(); // preamble
  assertEquals(await sse.next(), { comment: " heartbeat" });
});

Deno.test("a client that disconnects is removed from its channels at once", async () => {
  await using t = await startTestServer();
  const sse = await openSse(`${t.origin}/?channels=a,b`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  await sse.close();
  await waitFor(() => t.server.hub.subscriberCount === 0, "removal");
  assertEquals(t.server.hub.stats(), []);
});

Deno.test("10,000 connect/disconnect cycles leave no subscriber or channel behind", async () => {
  await using t = await startTestServer();
  const cycles = 10_000;
  let started = 0;
  const worker = async (w: number) => {
    while (started < cycles) {
      started++;
      const sse = await openSse(`${t.origin}/?channels=c${w % 10},all`);
      await sse.next(); // the stream is open and registered
      await sse.close();
    }
  };
  await Promise.all(Array.from({ length: 50 }, (_, w) => worker(w)));
  await waitFor(() => t.server.hub.subscriberCount === 0, "all subscribers removed", 10_000);
  assertEquals(t.server.hub.channelCount, 0);
  assertEquals(t.server.hub.counters.closed.client, cycles);
});
