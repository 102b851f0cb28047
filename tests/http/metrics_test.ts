import { assert, assertEquals } from "@std/assert";
import { openSse, publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

/** Parses the Prometheus text format into sample name{labels} → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = line.match(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/);
    if (!match) throw new Error(`not a sample line: ${line}`);
    out.set(match[1], Number(match[2]));
  }
  return out;
}

Deno.test("/metrics reports connections, channels, traffic, rejections and latency", async () => {
  await using t = await startTestServer({ publishKey: "k" });
  await using _a = await openSse(`${t.origin}/?channels=news`);
  await using b = await openSse(`${t.origin}/?channels=news,sport`);
  await waitFor(() => t.server.hub.subscribers("news") === 2, "subscriptions");
  for (let i = 0; i < 3; i++) {
    await publishJson(t.origin, { channel: "news", data: `m${i}` }, { "x-publish-key": "k" });
  }
  await b.events(3);
  assertEquals((await publishJson(t.origin, { channel: "news", data: "x" })).status, 401);
  await (await fetch(`${t.origin}/nope`)).body?.cancel();

  const response = await fetch(`${t.origin}/metrics`);
  assertEquals(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const m = samples(await response.text());
  assertEquals(m.get("sse_hub_connections"), 2);
  assertEquals(m.get("sse_hub_channels"), 2);
  assertEquals(m.get('sse_hub_channel_subscribers{channel="news"}'), 2);
  assertEquals(m.get('sse_hub_channel_subscribers{channel="sport"}'), 1);
  assertEquals(m.get("sse_hub_published_total"), 3);
  assertEquals(m.get("sse_hub_delivered_total"), 6);
  assertEquals(m.get('sse_hub_rejected_requests_total{status="401"}'), 1);
  assertEquals(m.get('sse_hub_rejected_requests_total{status="404"}'), 1);
  assertEquals(m.get('sse_hub_broker_up{broker="memory"}'), 1);
  assertEquals(m.get('sse_hub_disconnects_total{reason="slow"}'), 0);
  assertEquals(m.get("sse_hub_publish_to_write_seconds_count"), 3);
  assertEquals(m.get('sse_hub_publish_to_write_seconds_bucket{le="+Inf"}'), 3);
  assert(m.get('sse_hub_publish_to_write_seconds_bucket{le="1"}')! <= 3);
});

Deno.test("/metrics labels only the 20 busiest channels", async () => {
  await using t = await startTestServer({ maxChannels: 30 });
  const names = Array.from({ length: 25 }, (_, i) => `c${i}`);
  await using _all = await openSse(`${t.origin}/?channels=${names.join(",")}`);
  await using _busy = await openSse(`${t.origin}/?channels=c24`);
  await waitFor(() => t.server.hub.channelCount === 25, "subscriptions");
  const m = samples(await (await fetch(`${t.origin}/metrics`)).text());
  const labelled = [...m.keys()].filter((k) => k.startsWith("sse_hub_channel_subscribers{"));
  assertEquals(labelled.length, 20);
  assertEquals(m.get('sse_hub_channel_subscribers{channel="c24"}'), 2);
});

Deno.test("/metrics reports the process's resident memory and V8 heap", async () => {
  await using t = await startTestServer();
  const m = samples(await (await fetch(`${t.origin}/metrics`)).text());
  const rss = m.get("sse_hub_rss_bytes")!;
  const heapUsed = m.get("sse_hub_heap_used_bytes")!;
  const heapTotal = m.get("sse_hub_heap_total_bytes")!;
  // The server runs in this process: its figures are this process's.
  const own = Deno.memoryUsage();
  assert(Math.abs(rss - own.rss) < 64 * 1024 * 1024, `rss ${rss}, process ${own.rss}`);
  assert(heapUsed > 0 && heapUsed <= heapTotal, `heap used ${heapUsed} of ${heapTotal}`);
  assert(heapTotal < rss, `heap total ${heapTotal}, rss ${rss}`);
  assert(m.get("sse_hub_external_bytes")! > 0);
});
