/**
 * [fault, slow] Killing a Redis Cluster master under load must not lose
 * accepted events silently.
 *
 * A cluster of three masters with a replica each; two sse-hub instances on
 * it; subscribers on three channels that live on three different masters
 * (and some on two of them at once) on both instances; two publisher loops
 * per channel and instance posting numbered messages as fast as they can,
 * so that publishes are in flight on the killed master's slots. One master is SIGKILLed; its replica is promoted. Every
 * message that `POST /publish` answered with 200 must then reach every
 * subscriber of its channel, once and in order, or the subscriber must have
 * been told with an `sse-hub.gap` event after the last message it did get
 * from that publisher before the missing one. A 503 is a refusal. The test
 * takes about 15 s.
 *
 * @module
 */

import { assert } from "@std/assert";
import { channelSubscribers, type HubProcess, spawnPair } from "../_helpers/process.ts";
import { redisMissing, startRedisCluster } from "../_helpers/redis_cluster.ts";
import { openSse, type SseStream, waitFor } from "../_helpers/server.ts";

const GAP_EVENT = "sse-hub.gap";
/** Publishing before and after the failover. */
const PUBLISH_MS = 1500;
/** Bound on waiting for the last accepted messages once publishing stops. */
const SETTLE_TIMEOUT_MS = 15_000;
/** A stream with no message at all (heartbeats included) for this long has stalled. */
const STALL_MS = 10_000;
const PUBLISH_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One publisher loop: numbered messages to one channel through one instance. */
interface Publisher {
  readonly name: string;
  readonly hub: HubProcess;
  readonly channel: string;
  /** Accepted numbers. */
  readonly accepted: number[];
  refused: number;
  readonly errors: string[];
  sent: number;
}

type Entry =
  | { readonly kind: "message"; readonly publisher: string; readonly n: number }
  | { readonly kind: "gap" }
  | { readonly kind: "other"; readonly data: string };

interface Reader {
  readonly name: string;
  readonly channels: readonly string[];
  readonly sse: SseStream;
  readonly log: Entry[];
  dropped?: string;
  reading?: Promise<void>;
}

for (const how of ["kill", "freeze"] as const) {
  Deno.test({
    name: how === "kill"
      ? "[fault, slow] killing a cluster master under load loses no accepted event silently: its replica takes over and delivery catches up"
      : "[fault, slow] a hung cluster master under load loses no accepted event silently: its replica takes over and delivery catches up",
    ignore: redisMissing !== undefined,
    async fn() {
      const t0 = Date.now();
      await using cluster = await startRedisCluster({ replicasPerMaster: 1 });
      await using pair = await spawnPair([
        "--broker",
        "redis",
        "--redis-cluster",
        cluster.seeds,
        "--heartbeat",
        "500ms",
        "--max-buffered",
        "64MiB",
      ]);
      const channels = await channelsOnEachMaster();
      const sets = [...channels.map((c) => [c]), [channels[0], channels[1]]];
      const readers: Reader[] = [];
      const publishers: Publisher[] = [pair.a, pair.b].flatMap((hub, i) =>
        channels.flatMap((channel, c) =>
          [0, 1].map((w) => ({
            name: `${"ab"[i]}${c}${w}`,
            hub,
            channel,
            accepted: [],
            refused: 0,
            errors: [],
            sent: 0,
          }))
        )
      );
      let closing = false;
      let stop = false;
      let loops: Promise<void>[] = [];
      let failover = "";
      try {
        for (const [name, hub] of [["a", pair.a], ["b", pair.b]] as const) {
          for (const set of sets) {
            const sse = await openSse(`${hub.url.href}?channels=${set.join(",")}`);
            const reader: Reader = {
              name: `${name}:${set.join("+")}`,
              channels: set,
              sse,
              log: [],
            };
            reader.reading = read(reader, () => closing);
            readers.push(reader);
          }
          for (const channel of channels) {
            await waitFor(
              async () => (await channelSubscribers(hub, channel)) >= 1,
              `subscribers of ${channel} on ${name}`,
              15_000,
            );
          }
        }
        loops = publishers.map((p) => publishLoop(p, () => stop));
        await sleep(PUBLISH_MS);
        const started = Date.now();
        const { killed, promoted } = await cluster.failover(`{${channels[0]}}`, how);
        failover = `master ${killed} of ${channels[0]} ${
          how === "kill" ? "killed" : "frozen"
        }, replica ${promoted} promoted in ${Date.now() - started} ms`;
        await sleep(PUBLISH_MS);
        stop = true;
        await Promise.all(loops);
        await waitFor(
          () => readers.every((r) => r.dropped !== undefined || missing(r).length === 0),
          "delivery to settle",
          SETTLE_TIMEOUT_MS,
        ).catch(() => {});
      } finally {
        stop = true;
        await Promise.all(loops);
        closing = true;
        for (const r of readers) await r.sse.close();
        await Promise.all(readers.map((r) => r.reading));
      }

      const problems: string[] = [];
      let silent = 0;
      let covered = 0;
      let gaps = 0;
      let received = 0;
      for (const r of readers) {
        if (r.dropped) problems.push(`${r.name} was disconnected: ${r.dropped}`);
        const others = r.log.filter((e) => e.kind === "other");
        if (others.length > 0) problems.push(`${r.name} got unexpected events: ${others[0]}`);
        gaps += r.log.filter((e) => e.kind === "gap").length;
        received += r.log.filter((e) => e.kind === "message").length;
        // Each publisher posts to one channel: its messages come in order.
        const seen = new Set<string>();
        const highest = new Map<string, number>();
        for (const e of r.log) {
          if (e.kind !== "message") continue;
          const key = `${e.publisher}-${e.n}`;
          if (seen.has(key)) problems.push(`${r.name} got ${key} twice`);
          if ((highest.get(e.publisher) ?? 0) > e.n) {
            problems.push(`${r.name} got ${key} after ${e.publisher}-${highest.get(e.publisher)}`);
          }
          seen.add(key);
          highest.set(e.publisher, Math.max(highest.get(e.publisher) ?? 0, e.n));
        }
        for (const { publisher, n } of missing(r)) {
          // Told: a gap event after the last message from that publisher before it.
          const before = r.log.findLastIndex((e) =>
            e.kind === "message" && e.publisher === publisher && e.n < n
          );
          if (r.log.some((e, i) => e.kind === "gap" && i > before)) covered++;
          else {
            silent++;
            problems.push(`${r.name} silently missed ${publisher}-${n}`);
          }
        }
      }
      for (const p of publishers) {
        if (p.errors.length > 0) problems.push(`publisher ${p.name}: ${p.errors.slice(0, 3)}`);
      }
      const accepted = publishers.reduce((sum, p) => sum + p.accepted.length, 0);
      console.log(
        `redis cluster fault: ${failover}; ${accepted} accepted, ${
          publishers.reduce((sum, p) => sum + p.refused, 0)
        } refused, ${readers.length} subscribers, ${received} received, ${silent} silently missed, ` +
          `${covered} missed with a gap event, ${gaps} gap events (${
            ((Date.now() - t0) / 1000).toFixed(1)
          } s)`,
      );
      const tail = (hub: HubProcess) => hub.stderr().trimEnd().split("\n").slice(-6).join("\n");
      assert(
        problems.length === 0,
        `${problems.slice(0, 20).join("\n")}\nlogs:\n${tail(pair.a)}\n${tail(pair.b)}`,
      );

      /** Accepted messages on the reader's channels that it has not received. */
      function missing(r: Reader): { publisher: string; n: number }[] {
        const got = new Set(
          r.log.flatMap((e) => e.kind === "message" ? [`${e.publisher}-${e.n}`] : []),
        );
        return publishers.filter((p) => r.channels.includes(p.channel)).flatMap((p) =>
          p.accepted.filter((n) => !got.has(`${p.name}-${n}`)).map((n) => ({
            publisher: p.name,
            n,
          }))
        );
      }

      /** Three channel names whose slots are on three different masters. */
      async function channelsOnEachMaster(): Promise<string[]> {
        const byMaster = new Map<number, string>();
        for (let i = 0; byMaster.size < 3 && i < 200; i++) {
          const master = await cluster.masterOf(`{f${i}}`);
          if (!byMaster.has(master)) byMaster.set(master, `f${i}`);
        }
        return [...byMaster.values()];
      }
    },
  });
}

/** Reads until the stream ends; an end the test did not cause is recorded. */
async function read(r: Reader, closing: () => boolean): Promise<void> {
  try {
    for (;;) {
      const message = await r.sse.next(STALL_MS);
      if (message.event === GAP_EVENT) r.log.push({ kind: "gap" });
      else if (message.data !== undefined) {
        const match = /^([ab]\d\d)-(\d+)$/.exec(message.data);
        r.log.push(
          match
            ? { kind: "message", publisher: match[1], n: Number(match[2]) }
            : { kind: "other", data: message.data },
        );
      }
    }
  } catch (error) {
    if (!closing()) r.dropped = (error as Error).message;
  }
}

/** Posts `<name>-<n>` to its channel, one at a time, until `stop()`. */
async function publishLoop(p: Publisher, stop: () => boolean): Promise<void> {
  const url = new URL("/publish", p.hub.url);
  const channel = p.channel;
  while (!stop()) {
    const n = ++p.sent;
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel, data: `${p.name}-${n}` }),
        signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS),
      });
      const text = await response.text();
      if (response.status === 200) p.accepted.push(n);
      else if (response.status === 503) p.refused++;
      else p.errors.push(`${response.status} ${text}`);
    } catch (error) {
      p.errors.push((error as Error).message);
    }
  }
}
