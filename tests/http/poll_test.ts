import { assertEquals, assertMatch } from "@std/assert";
import { ServerSentEventParseStream } from "@std/http/server-sent-event-parse-stream";
import { publishJson, type SseMessage, startTestServer, waitFor } from "../_helpers/server.ts";

/** Runs one poll and parses its whole (finite) body. */
async function pollOnce(url: string, headers: HeadersInit = {}) {
  const response = await fetch(url, { headers });
  const messages: SseMessage[] = await Array.fromAsync(
    response.body!.pipeThrough(new ServerSentEventParseStream()) as ReadableStream<SseMessage>,
  );
  return { response, events: messages.filter((m) => m.data !== undefined), messages };
}

Deno.test("a poll with a Last-Event-ID answers at once with what was missed, and ends", async () => {
  await using t = await startTestServer();
  const ids: string[] = [];
  for (const data of ["one", "two", "three"]) {
    ids.push((await publishJson(t.origin, { channel: "a", data })).body.id as string);
  }
  const { response, events } = await pollOnce(
    `${t.origin}/?channels=a&transport=poll&lastEventId=${ids[0]}`,
  );
  assertEquals(response.status, 200);
  assertMatch(response.headers.get("content-length") ?? "", /^\d+$/);
  assertEquals(events.map((e) => [e.id, e.data]), [[ids[1], "two"], [ids[2], "three"]]);
  assertEquals(t.server.hub.subscriberCount, 0);
});

Deno.test("X-Requested-With: XMLHttpRequest makes a subscribe request a poll (cyclone-sse)", async () => {
  await using t = await startTestServer({ pollTimeoutMs: 200 });
  const first = (await publishJson(t.origin, { channel: "a", data: "x" })).body.id as string;
  await publishJson(t.origin, { channel: "a", data: "y" });
  const { events } = await pollOnce(`${t.origin}/?channels=a`, {
    "x-requested-with": "XMLHttpRequest",
    "last-event-id": first,
  });
  assertEquals(events.map((e) => e.data), ["y"]);
});

Deno.test("a poll with nothing new waits for the next event and returns it", async () => {
  await using t = await startTestServer();
  const polling = pollOnce(`${t.origin}/?channels=a&transport=poll`);
  await waitFor(() => t.server.hub.subscribers("a") === 1, "the poll to wait");
  const { body } = await publishJson(t.origin, { channel: "a", data: "next" });
  const { events } = await polling;
  assertEquals(events.map((e) => [e.id, e.data]), [[body.id, "next"]]);
  assertEquals(t.server.hub.subscriberCount, 0);
});

Deno.test("a poll that sees no event ends after --poll-timeout with a retry delay and no data", async () => {
  await using t = await startTestServer({ pollTimeoutMs: 150, heartbeatMs: 50, retryMs: 700 });
  const { response, events, messages } = await pollOnce(`${t.origin}/?channels=a&transport=poll`);
  assertEquals(response.status, 200);
  assertEquals(events, []);
  assertEquals(messages[0].retry, 700);
  assertEquals(t.server.hub.subscriberCount, 0);
});

for (const transport of ["serve", "node"] as const) {
  Deno.test(`[${transport}] a poll whose client goes away stops counting at once, not after --poll-timeout`, async () => {
    await using t = await startTestServer({ transport, pollTimeoutMs: 60_000 });
    const client = new AbortController();
    const polling = fetch(`${t.origin}/?channels=a&transport=poll`, { signal: client.signal })
      .catch(() => {});
    const channels = async () => await (await fetch(`${t.origin}/stats`)).json();
    await waitFor(async () => (await channels()).length === 1, "the poll to wait");
    client.abort();
    await polling;
    await waitFor(async () => (await channels()).length === 0, "the abandoned poll to be removed");
    assertEquals(t.server.hub.subscriberCount, 0);
  });
}
