/**
 * `deno task bench --scenario cluster [--quick]`: sse-hub on a Redis Cluster.
 *
 * For a cluster of 1 master (every slot on one node) and one of 3 masters
 * (no replicas), it starts two sse-hub instances with
 * `--broker redis --redis-cluster`, opens one subscriber per channel on each
 * instance, publishes from worker threads round-robin over channels and
 * instances for a fixed time, as fast as the instances accept, and measures
 * what was accepted and delivered, what was lost, and the CPU each Redis node
 * and each sse-hub used. Nothing is pinned to a core: Redis, sse-hub and the
 * generator share the machine's cores as the kernel places them.
 *
 * @module
 */

import calculateSlot from "cluster-key-slot";
import { cpuSeconds } from "./proc.ts";
import { SubscriberPool } from "./subscribers.ts";
import { freePort, sendPublish, SHIPPED_V8_FLAGS, startSseHub, type Target } from "./targets.ts";
import type { ClusterPublishOrder, ClusterPublishReport } from "./cluster_publisher_worker.ts";

/** How a cluster run is sized. */
export interface ClusterPlan {
  /** Masters of each cluster to run, in order. */
  readonly masterCounts: readonly number[];
  readonly channels: number;
  /** How long the publishers keep publishing, in ms. */
  readonly durationMs: number;
  /** Publishing workers, and publishes each keeps in flight. */
  readonly workers: number;
  readonly concurrency: number;
}

/** The plan of `deno task bench --scenario cluster [--quick]`. */
export function clusterPlan(quick: boolean): ClusterPlan {
  return quick
    ? { masterCounts: [1, 3], channels: 16, durationMs: 4_000, workers: 2, concurrency: 16 }
    : { masterCounts: [1, 3], channels: 64, durationMs: 10_000, workers: 2, concurrency: 16 };
}

/** Measured values of one cluster, by metric name (numbers, or text like "22/21/21"). */
export type ClusterMetrics = Record<string, number | string>;

/** One cluster's result. */
export interface ClusterResult {
  readonly masters: number;
  readonly metrics: ClusterMetrics;
}

/** Instances of sse-hub on each cluster (one subscriber per channel on each). */
const INSTANCES = 2;
/** Numbers a run may publish: the subscribers count deliveries of numbers below this. */
const SEQ_LIMIT = 1_000_000;
/** How long deliveries may trail the last accepted publish before the rest count as lost. */
const SETTLE_MS = 5_000;
/** Bound on one `redis-cli` call. */
const CLI_TIMEOUT_MS = 5_000;
/** Bound on a cluster, or an sse-hub on it, becoming ready. */
const READY_TIMEOUT_MS = 20_000;
const SLOTS = 16384;
const HOST = "127.0.0.1";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

function which(binary: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${binary}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Why the cluster scenario cannot run here, or undefined when it can. */
export function clusterMissing(): string | undefined {
  return which("redis-server") && which("redis-cli")
    ? undefined
    : "redis-server/redis-cli are not installed (Debian package redis-server)";
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-h", HOST, "-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** Waits until `check` is true, or throws after `timeoutMs` naming `what` and `lastSeen()`. */
async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  lastSeen: () => string = () => "",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs} ms ${lastSeen()}`);
    await sleep(50);
  }
}

/** The first and last hash slot of master `i` of `masters`. */
function slotRange(i: number, masters: number): [number, number] {
  return [Math.floor((SLOTS * i) / masters), Math.floor((SLOTS * (i + 1)) / masters) - 1];
}

/** A Redis Cluster of masters only, on free loopback ports. */
export interface BenchCluster {
  /** Port and process id of each master; master i serves {@linkcode slotRange}(i). */
  readonly nodes: readonly { readonly port: number; readonly pid: number }[];
  /** The value for `--redis-cluster`. */
  readonly seeds: string;
  stop(): Promise<void>;
}

/**
 * Starts `masters` redis-server cluster nodes (no persistence) and gives each
 * an equal share of the slots with CLUSTER ADDSLOTSRANGE, then joins them
 * with CLUSTER MEET. `redis-cli --cluster create` would refuse fewer than 3
 * masters; this also makes a 1-master cluster.
 */
export async function startCluster(masters: number): Promise<BenchCluster> {
  const ports = new Set<number>();
  while (ports.size < masters * 2) ports.add(freePort());
  const [dataPorts, busPorts] = [[...ports].slice(0, masters), [...ports].slice(masters)];
  const started: { port: number; child: Deno.ChildProcess; dir: string }[] = [];
  const stop = async () => {
    for (const { child } of started) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
    await Promise.all(started.map(({ child }) => child.status));
    await Promise.all(
      started.map(({ dir }) => Deno.remove(dir, { recursive: true }).catch(() => {})),
    );
  };
  try {
    for (let i = 0; i < masters; i++) {
      const dir = await Deno.makeTempDir({ prefix: `sse-hub-bench-redis-${dataPorts[i]}-` });
      const child = new Deno.Command("redis-server", {
        args: [
          "--port",
          String(dataPorts[i]),
          "--bind",
          HOST,
          "--cluster-enabled",
          "yes",
          "--cluster-port",
          String(busPorts[i]),
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "5000",
          "--cluster-announce-ip",
          HOST,
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      started.push({ port: dataPorts[i], child, dir });
    }
    await waitFor("every Redis node answers PING", READY_TIMEOUT_MS, async () => {
      const answers = await Promise.all(dataPorts.map((port) => cli(port, "PING")));
      return answers.every((answer) => answer === "PONG");
    });
    for (let i = 0; i < masters; i++) {
      await cli(dataPorts[i], "CLUSTER", "SET-CONFIG-EPOCH", String(i + 1));
      const [first, last] = slotRange(i, masters);
      const added = await cli(
        dataPorts[i],
        "CLUSTER",
        "ADDSLOTSRANGE",
        String(first),
        String(last),
      );
      if (added !== "OK") throw new Error(`CLUSTER ADDSLOTSRANGE on ${dataPorts[i]}: ${added}`);
    }
    for (let i = 1; i < masters; i++) {
      const met = await cli(
        dataPorts[0],
        "CLUSTER",
        "MEET",
        HOST,
        String(dataPorts[i]),
        String(busPorts[i]),
      );
      if (met !== "OK") throw new Error(`CLUSTER MEET ${HOST} ${dataPorts[i]}: ${met}`);
    }
    let seen = "";
    await waitFor("the cluster is ready", READY_TIMEOUT_MS, async () => {
      const infos = await Promise.all(dataPorts.map((port) => cli(port, "CLUSTER", "INFO")));
      seen = infos.map((info, i) =>
        `${dataPorts[i]}: ${info.match(/cluster_state:(\w+)/)?.[1] ?? "?"}, ${
          info.match(/cluster_known_nodes:(\d+)/)?.[1] ?? "?"
        } nodes`
      ).join("; ");
      return infos.every((info) =>
        info.includes("cluster_state:ok") && info.includes(`cluster_known_nodes:${masters}`)
      );
    }, () => `(last seen: ${seen})`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    nodes: started.map(({ port, child }) => ({ port, pid: child.pid })),
    seeds: dataPorts.map((port) => `${HOST}:${port}`).join(","),
    stop,
  };
}

/** Busy and total jiffies of the whole machine (first line of /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = sum(fields.slice(0, 8)); // user nice system idle iowait irq softirq steal
  return { busy: total - fields[3] - fields[4], total };
}

/** CPU seconds of each process in `pids`, the generator, and the machine, at one moment. */
interface CpuSnapshot {
  readonly at: number;
  readonly pids: number[];
  readonly own: number;
  readonly machine: { busy: number; total: number };
}

function snapshot(pids: number[]): CpuSnapshot {
  return {
    at: performance.now(),
    pids: pids.map(cpuSeconds),
    own: cpuSeconds(Deno.pid),
    machine: machineTicks(),
  };
}

/** Waits until `hub` answers /healthz 200 and its /stats shows a subscriber on every channel. */
async function waitForHub(hub: Target, channels: readonly string[] | undefined): Promise<void> {
  const base = `http://${hub.hostname}:${hub.port}`;
  if (channels === undefined) {
    await waitFor(`${hub.name} is healthy`, READY_TIMEOUT_MS, async () => {
      const response = await fetch(`${base}/healthz`);
      await response.body?.cancel();
      return response.status === 200;
    });
    return;
  }
  await waitFor(`${hub.name} has every subscriber`, READY_TIMEOUT_MS, async () => {
    const stats: [string, number][] = await (await fetch(`${base}/stats`)).json();
    const counts = new Map(stats);
    return channels.every((channel) => (counts.get(channel) ?? 0) >= 1);
  });
}

/** Publishes from `plan.workers` workers for `plan.durationMs`; calls `onAccepted` per accepted publish. */
async function publishFromWorkers(
  plan: ClusterPlan,
  urls: string[],
  channels: string[],
  first: number,
  workers: Worker[],
  onAccepted: (seq: number, sentAt: number) => void,
): Promise<{ failed: number; firstError?: string; hitLimit: boolean }> {
  const results = await Promise.all(
    workers.map((worker, w) =>
      new Promise<NonNullable<ClusterPublishReport["done"]>>((resolve) => {
        worker.onmessage = ({ data }: MessageEvent<ClusterPublishReport>) => {
          for (let i = 0; i < data.accepted.length; i += 2) {
            onAccepted(data.accepted[i], data.accepted[i + 1] - performance.timeOrigin);
          }
          if (data.done) resolve(data.done);
        };
        worker.postMessage(
          {
            urls,
            channels,
            first: first + w,
            stride: workers.length,
            limit: SEQ_LIMIT,
            concurrency: plan.concurrency,
            durationMs: plan.durationMs,
          } satisfies ClusterPublishOrder,
        );
      })
    ),
  );
  return {
    failed: sum(results.map((r) => r.failed)),
    firstError: results.find((r) => r.firstError)?.firstError,
    hitLimit: results.some((r) => r.hitLimit),
  };
}

/** Total deliveries a pool has counted. */
const deliveries = (pool: SubscriberPool) => pool.counts.reduce((a, b) => a + b, 0);

/** Runs the scenario on a cluster of `masters` masters; everything it starts is stopped. */
async function runOne(plan: ClusterPlan, masters: number): Promise<ClusterMetrics> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.splice(0).reverse()) await Promise.resolve(step()).catch(() => {});
  };
  const onSignal = () => cleanup().finally(() => Deno.exit(130));
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    const cluster = await startCluster(masters);
    cleanups.push(() => cluster.stop());
    const hubs: Target[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const hub = await startSseHub("default", {
        args: ["--broker", "redis", "--redis-cluster", cluster.seeds],
        pin: false,
      });
      cleanups.push(() => hub.stop());
      hubs.push(hub);
    }
    for (const hub of hubs) await waitForHub(hub, undefined);

    const channels = Array.from({ length: plan.channels }, (_, i) => `bench-cluster-${i}`);
    const pools = hubs.map((hub) => new SubscriberPool(hub.hostname, hub.port));
    cleanups.push(() => pools.forEach((pool) => pool.closeAll()));
    for (const pool of pools) {
      for (let seq = 0; seq < SEQ_LIMIT; seq++) pool.expect(seq);
    }
    for (const [i, pool] of pools.entries()) {
      await pool.open(channels.length, (c) => hubs[i].subscribePath([channels[c]]));
      if (pool.failed > 0) {
        throw new Error(`${pool.failed} subscribers were refused by ${hubs[i].name}`);
      }
    }
    for (const hub of hubs) await waitForHub(hub, channels);

    // Warm-up: one message per channel (number = channel index), seen on both instances.
    const perMaster = Array.from({ length: masters }, () => 0);
    for (const channel of channels) {
      const slot = calculateSlot(channel);
      perMaster[perMaster.findIndex((_, i) => slot <= slotRange(i, masters)[1])]++;
    }
    await Promise.all(channels.map(async (channel, seq) => {
      for (const pool of pools) pool.sent(seq, performance.now());
      await sendPublish(hubs[seq % INSTANCES].publishRequest(channel, `${seq} warm-up`));
    }));
    await waitFor(
      "the warm-up messages arrive on every instance",
      READY_TIMEOUT_MS,
      () =>
        Promise.resolve(
          pools.every((pool) => channels.every((_, seq) => pool.delivered(seq) >= 1)),
        ),
    );
    for (const pool of pools) pool.latencies.clear();

    const workers = Array.from(
      { length: plan.workers },
      () =>
        new Worker(new URL("./cluster_publisher_worker.ts", import.meta.url), { type: "module" }),
    );
    cleanups.push(() => workers.forEach((worker) => worker.terminate()));
    const redisPids = cluster.nodes.map((node) => node.pid);
    const hubPids = hubs.flatMap((hub) => hub.serverPids());
    const pids = [...redisPids, ...hubPids];
    const accepted: number[] = [];
    const deliveredBefore = sum(pools.map(deliveries));
    const before = snapshot(pids);
    const outcome = await publishFromWorkers(
      plan,
      hubs.map((hub) => hub.publishRequest("", "").url),
      channels,
      channels.length,
      workers,
      (seq, sentAt) => {
        accepted.push(seq);
        for (const pool of pools) pool.sent(seq, sentAt);
      },
    );
    const after = snapshot(pids);
    const deliveredInWindow = sum(pools.map(deliveries)) - deliveredBefore;
    const seconds = (after.at - before.at) / 1000;

    const missing = () =>
      sum(pools.map((pool) => accepted.filter((seq) => pool.delivered(seq) === 0).length));
    const settleEnd = performance.now() + SETTLE_MS;
    while (missing() > 0 && performance.now() < settleEnd) await sleep(100);
    const lost = missing();
    const duplicates = sum(
      pools.map((pool) => sum(accepted.map((seq) => Math.max(0, pool.delivered(seq) - 1)))),
    );

    const cpu = (i: number) => (after.pids[i] - before.pids[i]) / seconds * 100;
    const redisCpuSeconds = sum(redisPids.map((_, i) => after.pids[i] - before.pids[i]));
    const hubCpuSeconds = sum(
      hubPids.map((_, i) => after.pids[redisPids.length + i] - before.pids[redisPids.length + i]),
    );
    const metrics: ClusterMetrics = {
      "channels on each master": perMaster.join(" / "),
      "publishes accepted": accepted.length,
      "publishes/s accepted": accepted.length / seconds,
      "publishes refused or failed": outcome.failed,
      "deliveries/s received": deliveredInWindow / seconds,
      "events lost (after 5 s settle)": lost,
      "duplicate deliveries": duplicates,
      "delivery latency p50, ms": Math.max(...pools.map((pool) => pool.latencies.percentile(50))),
      "delivery latency p99, ms": Math.max(...pools.map((pool) => pool.latencies.percentile(99))),
    };
    redisPids.forEach((_, i) => metrics[`Redis master ${i + 1} CPU %`] = cpu(i));
    metrics["Redis CPU µs per publish (all masters)"] = redisCpuSeconds / accepted.length * 1e6;
    hubPids.forEach((_, i) =>
      metrics[`sse-hub ${String.fromCharCode(65 + i)} CPU %`] = cpu(redisPids.length + i)
    );
    metrics["sse-hub CPU µs per publish (both)"] = hubCpuSeconds / accepted.length * 1e6;
    metrics["load generator CPU %"] = (after.own - before.own) / seconds * 100;
    metrics["machine CPU % (all cores)"] = (after.machine.busy - before.machine.busy) /
      (after.machine.total - before.machine.total) * 100;
    if (outcome.firstError) metrics["first publish error"] = outcome.firstError;
    if (outcome.hitLimit) metrics["note"] = `stopped at ${SEQ_LIMIT} publishes before the time`;
    return metrics;
  } finally {
    await cleanup();
    Deno.removeSignalListener("SIGINT", onSignal);
  }
}

/** Runs the plan's clusters one after another; a cluster that fails reports its error. */
export async function runCluster(plan: ClusterPlan): Promise<ClusterResult[]> {
  const results: ClusterResult[] = [];
  for (const masters of plan.masterCounts) {
    let metrics: ClusterMetrics;
    try {
      metrics = await runOne(plan, masters);
    } catch (error) {
      metrics = { error: String(error) };
    }
    results.push({ masters, metrics });
    await sleep(500);
  }
  return results;
}

function format(value: number | string | undefined, metric: string): string {
  if (value === undefined) return "–";
  if (typeof value === "string") return value;
  if (Number.isNaN(value)) return "–";
  if (/µs|ms/.test(metric)) return value.toFixed(1);
  if (/%/.test(metric)) return value.toFixed(0);
  return String(Math.round(value));
}

/** Prints the plan and the results as a Markdown table, one column per cluster. */
export function printCluster(plan: ClusterPlan, results: readonly ClusterResult[]): void {
  console.log(
    `## cluster: ${INSTANCES} sse-hub instances on a Redis Cluster (masters only, no replicas, ` +
      `no persistence)\n`,
  );
  console.log(
    `${plan.channels} channels, 1 subscriber per channel on each instance ` +
      `(${plan.channels * INSTANCES} streams); ${plan.workers} publishing workers × ` +
      `${plan.concurrency} in flight, POST /publish round-robin over channels and instances ` +
      `for ${plan.durationMs / 1000} s, as fast as accepted. CPU % is of one core over the ` +
      `publishing window. sse-hub runs with ${SHIPPED_V8_FLAGS.join(" ") || "no V8 flags"}; ` +
      `nothing is pinned.`,
  );
  console.log(
    `This machine has ${navigator.hardwareConcurrency} cores (navigator.hardwareConcurrency) ` +
      `shared by every Redis node, both sse-hubs and the load generator, so shard scaling is ` +
      `bounded by CPU here.\n`,
  );
  const columns = results.map((r) => `${r.masters} master${r.masters === 1 ? "" : "s"}`);
  // Rows in the order of the cluster with the most of them (the most masters).
  const byRows = [...results].sort((a, b) =>
    Object.keys(b.metrics).length - Object.keys(a.metrics).length
  );
  const metrics = [...new Set(byRows.flatMap((r) => Object.keys(r.metrics)))];
  console.log(`| metric | ${columns.join(" | ")} |`);
  console.log(`|---|${columns.map(() => "---:|").join("")}`);
  for (const metric of metrics) {
    const cells = results.map((r) => format(r.metrics[metric], metric));
    console.log(`| ${metric} | ${cells.join(" | ")} |`);
  }
  console.log();
}

/**
 * sse-hub (default transport, pinned like the other targets) on a 1-master
 * Redis Cluster, as a target for the load scenarios: what a cluster broker
 * adds per delivery. Only sse-hub's process counts as the server.
 */
export async function startSseHubOnCluster(): Promise<Target> {
  const cluster = await startCluster(1);
  try {
    const hub = await startSseHub("default", {
      args: ["--broker", "redis", "--redis-cluster", cluster.seeds],
    });
    return {
      ...hub,
      name: "sse-hub cluster",
      async stop() {
        await hub.stop();
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
