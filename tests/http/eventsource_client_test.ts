import { assertEquals } from "@std/assert";
import { EventSource } from "eventsource";
import { publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("an npm eventsource client dropped by the server reconnects and misses nothing", async () => {
  await using t = await startTestServer({ retryMs: 200 });
  const received: { id: string; data: string }[] = [];
  let opens = 0;
  const source = new EventSource(`${t.origin}/?channels=feed`);
  source.onopen = () => opens++;
  source.onmessage = (e) => received.push({ id: e.lastEventId, data: e.data });
  try {
    await waitFor(() => t.server.hub.subscriberCount === 1, "first connection");
    for (let i = 1; i <= 3; i++) await publishJson(t.origin, { channel: "feed", data: `m${i}` });
    await waitFor(() => received.length === 3, "the first three events");

    // The server drops the client; what is published before it is back must still arrive.
    assertEquals(t.server.hub.disconnect(() => true), 1);
    for (let i = 4; i <= 6; i++) await publishJson(t.origin, { channel: "feed", data: `m${i}` });
    await waitFor(() => opens === 2 && t.server.hub.subscriberCount === 1, "reconnection");
    for (let i = 7; i <= 8; i++) await publishJson(t.origin, { channel: "feed", data: `m${i}` });
    await waitFor(() => received.length >= 8, "all eight events");

    assertEquals(received.map((e) => e.data), ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"]);
    assertEquals(new Set(received.map((e) => e.id)).size, 8);
  } finally {
    source.close();
  }
});
