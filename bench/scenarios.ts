/**
 * Benchmark scenarios: each starts from a fresh server, opens subscribers,
 * publishes through the server's HTTP publish endpoint and measures.
 *
 * @module
 */

import { cpuSeconds, rssBytes } from "./proc.ts";
import { median } from "./stats.ts";
import { Publisher } from "./publisher.ts";
import { SubscriberPool } from "./subscribers.ts";
import { sendPublish, type Target } from "./targets.ts";

/** Measured values by metric name. */
export type Metrics = Record<string, number | string>;

/** A scenario: a name, a description and how to run it on a target. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  run(target: Target): Promise<Metrics>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

let nextSeq = 1;

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await sleep(2);
  }
  return true;
}

/** Publishes one numbered message and resolves with its fan-out time (ms), or NaN if some never arrived. */
async function fanOut(
  target: Target,
  pool: SubscriberPool,
  channel: string,
  expected: number,
): Promise<number> {
  const seq = nextSeq++;
  pool.sent(seq, performance.now());
  await sendPublish(target.publishRequest(channel, `${seq} fan-out`));
  const complete = await until(() => pool.delivered(seq) >= expected, 30_000);
  return complete ? pool.lastDelivery - pool.sentAt[seq] : NaN;
}

interface Burst {
  readonly sequences: number[];
  readonly startedAt: number;
  readonly cpu: number;
  readonly ownCpu: number;
}

/**
 * Publishes `count` numbered messages, `intervalMs` apart (0: each as soon as
 * the previous one is accepted), from a worker thread, as an independent
 * publisher would.
 */
async function burst(
  target: Target,
  pool: SubscriberPool,
  publisher: Publisher,
  channel: string,
  count: number,
  intervalMs: number,
  padding = "",
): Promise<Burst> {
  const pids = target.serverPids();
  const cpu = sum(pids.map(cpuSeconds));
  const ownCpu = cpuSeconds(Deno.pid);
  const startedAt = performance.now();
  const sequences = Array.from({ length: count }, () => nextSeq++);
  for (const seq of sequences) pool.expect(seq);
  await publisher.burst(
    sequences.map((seq) => target.publishRequest(channel, `${seq} ${padding}`)),
    intervalMs,
    (i, at) => pool.sent(sequences[i], at),
  );
  return { sequences, startedAt, cpu, ownCpu };
}

/** Waits for a burst to be delivered to `expected` subscribers per message; returns its measurements. */
async function settle(
  target: Target,
  pool: SubscriberPool,
  b: Burst,
  expected: number,
): Promise<Metrics> {
  const want = expected * b.sequences.length;
  const got = () => sum(b.sequences.map((s) => pool.delivered(s)));
  await until(() => got() >= want, 60_000);
  await sleep(200); // let late arrivals land before counting losses
  const deliveries = got();
  const elapsed = (pool.lastDelivery - b.startedAt) / 1000;
  const serverCpu = sum(target.serverPids().map(cpuSeconds)) - b.cpu;
  const ownCpu = cpuSeconds(Deno.pid) - b.ownCpu;
  return {
    deliveries,
    lost: want - deliveries,
    "deliveries/s": Math.round(deliveries / elapsed),
    "server CPU µs/delivery": (serverCpu / deliveries) * 1e6,
    "generator CPU %": (ownCpu / ((performance.now() - b.startedAt) / 1000)) * 100,
  };
}

function latency(pool: SubscriberPool): Metrics {
  return {
    "latency p50 ms": pool.latencies.percentile(50),
    "latency p99 ms": pool.latencies.percentile(99),
    "latency max ms": pool.latencies.max(),
  };
}

/**
 * Publishes a few unmeasured messages so a JIT-compiled server is measured
 * warm, as it runs in production (nchan, being C, has nothing to warm).
 */
async function warmUp(target: Target, pool: SubscriberPool, channel: string, expected: number) {
  for (let i = 0; i < 10; i++) await fanOut(target, pool, channel, expected);
}

/** How long, at most, to wait for a garbage-collected server's memory to settle. */
const HELD_WINDOW_MS = 40_000;

/**
 * What the server holds per connection once the garbage of accepting them is
 * collected: V8 leaves it in the heap until its memory reducer runs, about
 * 30 s after the server went idle (measured: 12.3 → 7.2 KB per connection,
 * node transport, 10,000 streams). Samples every second until the RSS fell
 * below 90% of `first` and stopped moving, or for `HELD_WINDOW_MS`; nchan,
 * with no collector, just holds still for the window.
 */
async function heldRss(pids: number[], first: number): Promise<number> {
  let last = first;
  for (let waited = 0; waited < HELD_WINDOW_MS; waited += 1000) {
    await sleep(1000);
    const now = sum(pids.map(rssBytes));
    if (now < 0.9 * first && Math.abs(now - last) < 0.01 * last) return now;
    last = now;
  }
  return last;
}

/**
 * Opens `n` subscribers after recording the server's idle memory; with
 * `held`, also waits for what the server holds once it has collected the
 * garbage of accepting them (see {@linkcode heldRss}).
 */
async function connect(
  target: Target,
  n: number,
  path: (i: number) => string,
  held = false,
): Promise<{ pool: SubscriberPool; metrics: Metrics }> {
  const pids = target.serverPids();
  await sleep(300);
  const before = sum(pids.map(rssBytes));
  const pool = new SubscriberPool(target.hostname, target.port);
  const connectMs = await pool.open(n, path);
  await sleep(1000);
  const after = sum(pids.map(rssBytes));
  const metrics: Metrics = {
    subscribers: n - pool.failed,
    "connect ms": connectMs,
    "RSS KB/connection": (after - before) / 1024 / n,
  };
  if (held) {
    metrics["RSS KB/connection, held (after GC)"] = (await heldRss(pids, after) - before) / 1024 /
      n;
  }
  return { pool, metrics };
}

/** N subscribers on one channel: memory, fan-out, paced-burst latency, flood throughput. */
export function oneChannel(n: number, burstSize: number, held = false): Scenario {
  return channelScenario(`one-channel-${n}`, `${n} subscribers on one channel`, n, burstSize, {
    held,
  });
}

/**
 * N subscribers on one channel that each ask for their own client token
 * (`?client=new`, as the bundled client and jQuery plugin do): every stream
 * is then on a channel set of its own (the channel and its `client:` one).
 */
export function tokens(n: number, burstSize: number): Scenario {
  return channelScenario(
    `tokens-${n}`,
    `${n} subscribers on one channel, each with its own client token`,
    n,
    burstSize,
    { query: "&client=new" },
  );
}

function channelScenario(
  name: string,
  description: string,
  n: number,
  burstSize: number,
  options: { held?: boolean; query?: string },
): Scenario {
  return {
    name,
    description,
    async run(target) {
      const { pool, metrics } = await connect(
        target,
        n,
        () => target.subscribePath(["bench"]) + (options.query ?? ""),
        options.held,
      );
      using publisher = await Publisher.start();
      try {
        const expected = n - pool.failed;
        await warmUp(target, pool, "bench", expected);
        const fanouts = [];
        const cpuBefore = sum(target.serverPids().map(cpuSeconds));
        for (let i = 0; i < 3; i++) fanouts.push(await fanOut(target, pool, "bench", expected));
        const cpu = sum(target.serverPids().map(cpuSeconds)) - cpuBefore;
        metrics["fan-out ms (one message to all)"] = median(fanouts);
        metrics["server CPU µs/delivery, one at a time"] = (cpu / (3 * expected)) * 1e6;
        pool.latencies.clear();
        const paced = await burst(target, pool, publisher, "bench", burstSize, 100);
        const pacedResult = await settle(target, pool, paced, expected);
        Object.assign(metrics, latency(pool), { "lost (paced burst)": pacedResult.lost });
        const flood = await burst(target, pool, publisher, "bench", burstSize, 0);
        const floodResult = await settle(target, pool, flood, expected);
        metrics["deliveries/s (flood)"] = floodResult["deliveries/s"];
        metrics["lost (flood)"] = floodResult.lost;
        metrics["server CPU µs/delivery"] = floodResult["server CPU µs/delivery"];
        metrics["generator CPU %"] = floodResult["generator CPU %"];
        return metrics;
      } finally {
        pool.closeAll();
      }
    },
  };
}

/** cyclone-sse's published shape: everyone on `general` plus one of four rooms. */
export function cyclone(n: number, burstSize: number): Scenario {
  const rooms = ["cats", "dogs", "base", "extras"];
  return {
    name: `cyclone-${n}`,
    description: `${n} clients on general + one of four rooms`,
    async run(target) {
      const { pool, metrics } = await connect(
        target,
        n,
        (i) => target.subscribePath(["general", rooms[i % 4]]),
      );
      using publisher = await Publisher.start();
      try {
        const expected = n - pool.failed;
        await warmUp(target, pool, "general", expected);
        metrics["fan-out ms (general)"] = await fanOut(target, pool, "general", expected);
        metrics["fan-out ms (one room)"] = await fanOut(target, pool, "cats", Math.ceil(n / 4));
        pool.latencies.clear();
        const paced = await burst(target, pool, publisher, "general", burstSize, 100);
        const result = await settle(target, pool, paced, expected);
        Object.assign(metrics, latency(pool), { lost: result.lost });
        return metrics;
      } finally {
        pool.closeAll();
      }
    },
  };
}

/** One subscriber never reads while n others do: the others must not wait for it. */
export function slowSubscriber(n: number, messages: number): Scenario {
  const padding = "x".repeat(8 * 1024);
  return {
    name: `slow-subscriber-${n}`,
    description: `${n} readers + 1 client that never reads; ${messages} × 8 KiB messages`,
    async run(target) {
      const { pool, metrics } = await connect(target, n, () => target.subscribePath(["bench"]));
      const stalled = new SubscriberPool(target.hostname, target.port);
      using publisher = await Publisher.start();
      try {
        await stalled.open(1, () => target.subscribePath(["bench"]), { read: false });
        const expected = n - pool.failed;
        await warmUp(target, pool, "bench", expected);
        pool.latencies.clear();
        const b = await burst(target, pool, publisher, "bench", messages, 10, padding);
        const result = await settle(target, pool, b, expected);
        Object.assign(metrics, latency(pool), { lost: result.lost });
        const left = await target.subscribers("bench");
        metrics["stalled client cut off"] = left === undefined
          ? "n/a"
          : left === expected
          ? "yes"
          : "no";
        return metrics;
      } finally {
        stalled.closeAll();
        pool.closeAll();
      }
    },
  };
}
