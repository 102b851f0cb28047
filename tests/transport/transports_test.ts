/**
 * The behaviours every transport must share, run against each of them.
 */

import { assert, assertEquals } from "@std/assert";
import {
  openSse,
  publishJson,
  type SseMessage,
  startTestServer,
  waitFor,
} from "../_helpers/server.ts";

const TRANSPORTS = ["serve", "node"] as const;

for (const transport of TRANSPORTS) {
  Deno.test(`[${transport}] a published event reaches every subscriber of the channel`, async () => {
    await using t = await startTestServer({ transport });
    await using a = await openSse(`${t.origin}/?channels=x`);
    await using b = await openSse(`${t.origin}/?channels=x,y`);
    await waitFor(() => t.server.hub.subscribers("x") === 2, "subscriptions");
    const { body } = await publishJson(t.origin, { channel: ["x", "y"], data: "hi\nthere" });
    assertEquals(body.delivered, 2);
    for (const sse of [a, b]) {
      const event = await sse.nextEvent();
      assertEquals([event.id, event.data], [body.id, "hi\nthere"]);
    }
  });

  Deno.test(`[${transport}] a reconnect with Last-Event-ID replays exactly the missed events`, async () => {
    await using t = await startTestServer({ transport });
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      ids.push((await publishJson(t.origin, { channel: "x", data: `m${i}` })).body.id as string);
    }
    await using sse = await openSse(`${t.origin}/?channels=x`, { "last-event-id": ids[1] });
    assertEquals((await sse.events(2)).map((e) => e.id), ids.slice(2));
  });

  Deno.test(`[${transport}] a disconnecting client is removed at once`, async () => {
    await using t = await startTestServer({ transport });
    const sse = await openSse(`${t.origin}/?channels=x`);
    await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
    await sse.close();
    await waitFor(() => t.server.hub.subscriberCount === 0, "removal");
    assertEquals(t.server.hub.channelCount, 0);
  });

  Deno.test(`[${transport}] shutdown ends open streams and stops listening`, async () => {
    const t = await startTestServer({ transport });
    const sse = await openSse(`${t.origin}/?channels=x`);
    await sse.next();
    await t.server.shutdown();
    let ended = false;
    try {
      await sse.next(2000);
    } catch (error) {
      ended = /ended|error|reset|closed/i.test(String(error));
    }
    assert(ended, "the stream did not end on shutdown");
    await sse.close();
    let refused = false;
    await fetch(`${t.origin}/healthz`).then((r) => r.body?.cancel()).catch(() => refused = true);
    assert(refused, "the server still accepts connections after shutdown");
  });

  Deno.test(`[${transport}] a client that stops reading is cut off, the others keep receiving, and it replays what it missed`, async () => {
    const maxBuffered = 64 * 1024;
    await using t = await startTestServer({ transport, maxBuffered, historySize: 10_000 });
    const url = new URL(`${t.origin}/?channels=flood`);

    // The slow client: reads the first event, then never reads again.
    const slow = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    await slow.write(
      new TextEncoder().encode(`GET /?channels=flood HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`),
    );
    await using healthy = await openSse(`${t.origin}/?channels=flood`);
    await waitFor(() => t.server.hub.subscribers("flood") === 2, "both subscribed");
    const firstId = (await publishJson(t.origin, { channel: "flood", data: "first" })).body
      .id as string;
    const firstBytes = new Uint8Array(8192);
    await slow.read(firstBytes);

    // The healthy client reads everything, concurrently.
    const seen: SseMessage[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) seen.push(await healthy.nextEvent(10_000));
    })().catch(() => {});

    const chunk = "x".repeat(16 * 1024);
    let published = 1;
    for (let i = 0; i < 4000 && t.server.hub.counters.closed.slow === 0; i++) {
      await publishJson(t.origin, { channel: "flood", data: `${i} ${chunk}` });
      published++;
    }
    assertEquals(t.server.hub.counters.closed.slow, 1, "the slow client was never cut off");
    assertEquals(t.server.hub.subscribers("flood"), 1);
    await waitFor(
      () => seen.length === published,
      `healthy client got ${published} events`,
      20_000,
    );
    reading = false;
    slow.close();
    await healthy.close();
    await reader;

    // Reconnecting with the id it had, the cut-off client gets all the rest, without a gap.
    await using back = await openSse(`${t.origin}/?channels=flood`, { "last-event-id": firstId });
    const replayed = await back.events(published - 1, 20_000);
    assertEquals(replayed[0].data?.startsWith("0 "), true);
    assertEquals(replayed.at(-1)?.id, seen.at(-1)?.id);
    assertEquals(replayed.filter((e) => e.event === "sse-hub.gap").length, 0);
  });
}
