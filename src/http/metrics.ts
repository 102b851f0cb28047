/**
 * `GET /metrics`: Prometheus text format. Channel labels are given only for
 * the busiest channels, so a server with many channels keeps a bounded
 * number of series.
 *
 * @module
 */

import { family, label } from "../metrics.ts";
import type { RouteContext } from "./context.ts";

/** Channels labelled in `sse_hub_channel_subscribers`. */
const TOP_CHANNELS = 20;

/**
 * The process's memory as gauges: resident set size, and what V8 holds.
 * When RSS stays high after connections leave but the heap does not, the
 * memory is kept by the allocator, not by live objects (docs/operations.md,
 * "Memory after reconnect storms").
 */
function memoryFamilies(): string[] {
  const memory = Deno.memoryUsage();
  const gauge = (name: string, help: string, value: number) =>
    family(name, "gauge", help, [`${name} ${value}`]);
  return [
    gauge("sse_hub_rss_bytes", "Resident set size of the process.", memory.rss),
    gauge(
      "sse_hub_heap_used_bytes",
      "V8 heap in use: live objects and garbage not yet collected.",
      memory.heapUsed,
    ),
    gauge("sse_hub_heap_total_bytes", "V8 heap reserved.", memory.heapTotal),
    gauge(
      "sse_hub_external_bytes",
      "Memory outside the V8 heap held by JavaScript objects (buffers).",
      memory.external,
    ),
  ];
}

/** The metrics route. */
export function metrics({ hub, rejected }: RouteContext): Response {
  const c = hub.counters;
  const top = hub.stats().sort(([, a], [, b]) => b - a).slice(0, TOP_CHANNELS);
  const body = [
    family("sse_hub_connections", "gauge", "Open subscriber connections.", [
      `sse_hub_connections ${hub.subscriberCount}`,
    ]),
    family("sse_hub_channels", "gauge", "Channels with at least one subscriber.", [
      `sse_hub_channels ${hub.channelCount}`,
    ]),
    family(
      "sse_hub_channel_subscribers",
      "gauge",
      `Subscribers of the ${TOP_CHANNELS} busiest channels.`,
      top.map(([name, n]) => `sse_hub_channel_subscribers{channel="${label(name)}"} ${n}`),
    ),
    family("sse_hub_published_total", "counter", "Messages published through this instance.", [
      `sse_hub_published_total ${c.published}`,
    ]),
    family("sse_hub_delivered_total", "counter", "Event writes to subscribers.", [
      `sse_hub_delivered_total ${c.delivered}`,
    ]),
    family("sse_hub_replayed_total", "counter", "Events replayed after a Last-Event-ID.", [
      `sse_hub_replayed_total ${c.replayed}`,
    ]),
    family(
      "sse_hub_disconnects_total",
      "counter",
      "Closed subscriber connections by reason (slow: cut off over --max-buffered).",
      Object.entries(c.closed).map(([reason, n]) =>
        `sse_hub_disconnects_total{reason="${reason}"} ${n}`
      ),
    ),
    family(
      "sse_hub_rejected_requests_total",
      "counter",
      "Requests answered with an error, by status.",
      rejected.entries().map(([status, n]) =>
        `sse_hub_rejected_requests_total{status="${status}"} ${n}`
      ),
    ),
    family("sse_hub_broker_up", "gauge", "1 when the broker can publish.", [
      `sse_hub_broker_up{broker="${hub.broker.kind}"} ${hub.broker.ready ? 1 : 0}`,
    ]),
    family(
      "sse_hub_publish_to_write_seconds",
      "histogram",
      "From publish to the event written to every local subscriber.",
      c.publishToWrite.render("sse_hub_publish_to_write_seconds"),
    ),
    ...memoryFamilies(),
  ].join("\n\n") + "\n";
  return new Response(body, {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
}
