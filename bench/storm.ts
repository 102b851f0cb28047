/**
 * Memory after reconnect storms: starts sse-hub as `deno task start` does,
 * opens N SSE subscribers, drops them all and reconnects them R times, then
 * closes them all, and samples the server's RSS (`/proc/<pid>/status`) and
 * its V8 heap (`/metrics`: `sse_hub_heap_used_bytes`, `sse_hub_external_bytes`)
 * idle before, at the peak, and after everyone left (at once, +10 s, +30 s,
 * +60 s). A heap back at its idle size with RSS still up is memory the
 * allocator keeps, not objects sse-hub holds (docs/operations.md).
 *
 *   deno run -A bench/storm.ts --transport serve|node [--clients 3000] [--rounds 3]
 *                              [--settle 60] [--malloc-trim] [--json FILE]
 *
 * The server inherits this process's environment, so allocator settings can
 * be tried as `MALLOC_ARENA_MAX=2 deno run -A bench/storm.ts …`. Loopback
 * only; the whole run takes about a minute more than `--settle`.
 *
 * @module
 */

import net from "node:net";
import { parseArgs } from "@std/cli/parse-args";
import { TextLineStream } from "@std/streams/text-line-stream";
import { type ResidentByKind, residentByKind, rssBytes } from "./proc.ts";
import { SHIPPED_V8_FLAGS } from "./targets.ts";

const USAGE = `Usage: deno run -A bench/storm.ts --transport serve|node [--clients N] [--rounds R]
                                    [--settle SECONDS] [--malloc-trim] [--json FILE]`;

const ROOT = new URL("..", import.meta.url).pathname;
const HOST = "127.0.0.1";
const HEAD_OK = "HTTP/1.1 200";
/** Subscribers connecting at once. */
const CONCURRENCY = 200;
/** How often RSS is sampled to find the peak. */
const PEAK_EVERY_MS = 100;

function fail(message: string): never {
  console.error(`storm: ${message}\n${USAGE}`);
  Deno.exit(2);
}

/** A whole number ≥ `min` from `--name`, or exit 2 naming it. */
function count(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    fail(`--${name} must be a whole number of at least ${min}, not "${value}"`);
  }
  return n;
}

/** One sample of the server's memory. */
interface Sample {
  readonly at: string;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
}

/** The running server: its process, address, and the memory it reports. */
class Server {
  constructor(
    readonly child: Deno.ChildProcess,
    readonly port: number,
  ) {}

  get origin(): string {
    return `http://${HOST}:${this.port}`;
  }

  /** Starts sse-hub with the shipped V8 flags and waits for its "listening on" line. */
  static async start(transport: string, trimmable: boolean): Promise<Server> {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        ...SHIPPED_V8_FLAGS,
        `${ROOT}${trimmable ? "bench/storm_server.ts" : "main.ts"}`,
        "--port",
        "0",
        "--transport",
        transport,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const lines = child.stderr.pipeThrough(new TextDecoderStream())
      .pipeThrough(new TextLineStream()) as ReadableStream<string>;
    const reader = lines.getReader();
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error("sse-hub exited before it listened");
        const port = value.match(/listening on http:\/\/[^:]+:(\d+)\//)?.[1];
        if (port) {
          // Keep reading its log so that it never blocks on a full pipe.
          const server = new Server(child, Number(port));
          (async () => {
            for (;;) {
              const line = await reader.read();
              if (line.done) return;
              if (line.value.startsWith("storm_server: malloc_trim")) server.#trimmed?.();
              else if (/WRN|ERR|FTL/.test(line.value)) console.error(`  server: ${line.value}`);
            }
          })();
          return server;
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async get(path: string): Promise<string> {
    const response = await fetch(`${this.origin}${path}`);
    return await response.text();
  }

  /** RSS from /proc and the heap from /metrics. */
  async sample(at: string): Promise<Sample> {
    const metrics = await this.get("/metrics");
    const gauge = (name: string) => {
      const value = metrics.match(new RegExp(`^${name} (\\d+)$`, "m"))?.[1];
      if (value === undefined) throw new Error(`/metrics has no ${name}`);
      return Number(value);
    };
    return {
      at,
      rss: rssBytes(this.child.pid),
      heapUsed: gauge("sse_hub_heap_used_bytes"),
      heapTotal: gauge("sse_hub_heap_total_bytes"),
      external: gauge("sse_hub_external_bytes"),
    };
  }

  /** Open subscribers and channels, from /healthz and /stats. */
  async counts(): Promise<{ subscribers: number; channels: number; stats: string }> {
    const health = JSON.parse(await this.get("/healthz"));
    return {
      subscribers: health.subscribers,
      channels: health.channels,
      stats: await this.get("/stats"),
    };
  }

  /** Waits until the server reports `n` subscribers. */
  async waitForSubscribers(n: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    while ((await this.counts()).subscribers !== n) {
      if (Date.now() > deadline) throw new Error(`the server never reported ${n} subscribers`);
      await sleep(50);
    }
  }

  #trimmed: (() => void) | undefined;

  /**
   * The --malloc-trim experiment (bench/storm_server.ts): the server calls
   * glibc's `malloc_trim(0)`; resolves once it has.
   */
  async mallocTrim(): Promise<void> {
    const done = new Promise<void>((resolve) => this.#trimmed = resolve);
    this.child.kill("SIGUSR2");
    await done;
    this.#trimmed = undefined;
  }

  async stop(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.child.status;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Opens one SSE subscriber; resolves with its socket once the response head is 200. */
function subscribe(port: number, i: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    socket.once("connect", () =>
      socket.write(
        `GET /?channels=news,user.${i} HTTP/1.1\r\nHost: ${HOST}:${port}\r\n` +
          `Accept: text/event-stream\r\n\r\n`,
      ));
    socket.once("data", (chunk: Uint8Array) => {
      const head = new TextDecoder().decode(chunk.subarray(0, HEAD_OK.length));
      if (head === HEAD_OK) resolve(socket);
      else reject(new Error(`subscriber ${i} got ${JSON.stringify(head)}`));
    });
    socket.on("data", () => {}); // read and discard heartbeats
    socket.once("error", reject);
  });
}

/** Opens `n` subscribers, {@linkcode CONCURRENCY} at a time. */
async function connectAll(port: number, n: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) sockets.push(await subscribe(port, next++));
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
  return sockets;
}

function dropAll(sockets: net.Socket[]): void {
  for (const socket of sockets) socket.destroy();
}

const MB = 1024 * 1024;
const mb = (bytes: number) => (bytes / MB).toFixed(1);
const delta = (bytes: number, base: number) => `${bytes >= base ? "+" : ""}${mb(bytes - base)}`;

function table(samples: readonly Sample[]): string {
  const idle = samples[0];
  const rows = samples.map((s) =>
    `| ${s.at.padEnd(20)} | ${mb(s.rss).padStart(7)} | ${delta(s.rss, idle.rss).padStart(7)} | ${
      mb(s.heapUsed).padStart(9)
    } | ${delta(s.heapUsed, idle.heapUsed).padStart(7)} | ${mb(s.heapTotal).padStart(10)} | ${
      mb(s.external).padStart(8)
    } |`
  );
  return [
    "| when                 | RSS MB  |  ΔRSS   | heap used | Δheap   | heap total | external |",
    "| -------------------- | ------: | ------: | --------: | ------: | ---------: | -------: |",
    ...rows,
  ].join("\n");
}

async function main(): Promise<void> {
  const flags = parseArgs(Deno.args, {
    string: ["transport", "clients", "rounds", "settle", "json"],
    boolean: ["help", "malloc-trim"],
    default: { clients: "3000", rounds: "3", settle: "60" },
    unknown: (arg: string) => fail(`unknown option ${arg}`),
  });
  if (flags.help) {
    console.log(USAGE);
    return;
  }
  if (flags.transport !== "serve" && flags.transport !== "node") {
    fail(`--transport must be serve or node, not ${JSON.stringify(flags.transport ?? "")}`);
  }
  const clients = count("clients", flags.clients, 1);
  const rounds = count("rounds", flags.rounds, 0);
  const settle = count("settle", flags.settle, 0);
  const marks = [0, 10, 30, 60].filter((s) => s <= settle);
  if (!marks.includes(settle)) marks.push(settle);

  const env = ["MALLOC_ARENA_MAX", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"]
    .map((name) => Deno.env.get(name) === undefined ? "" : ` ${name}=${Deno.env.get(name)}`)
    .join("");
  console.log(
    `storm: ${flags.transport}, ${clients} clients, ${rounds} reconnect rounds, ${
      SHIPPED_V8_FLAGS.join(" ")
    }${env}`,
  );
  const server = await Server.start(flags.transport, flags["malloc-trim"]);
  let peak = 0;
  const peaker = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(server.child.pid));
    } catch {
      // exited; reported below
    }
  }, PEAK_EVERY_MS);
  try {
    // Warm the routes the samples use, so their first use is not counted.
    for (let i = 0; i < 3; i++) await server.sample("warm-up");
    await sleep(2000);
    const samples = [await server.sample("idle before")];
    const idleKinds = residentByKind(server.child.pid);
    let sockets = await connectAll(server.port, clients);
    await server.waitForSubscribers(clients);
    const connected = await server.sample("all connected");
    for (let round = 1; round <= rounds; round++) {
      dropAll(sockets);
      await server.waitForSubscribers(0);
      sockets = await connectAll(server.port, clients);
      await server.waitForSubscribers(clients);
    }
    samples.push(connected, await server.sample(`after ${rounds} storms`));
    dropAll(sockets);
    await server.waitForSubscribers(0);
    const left = performance.now();
    const top = Math.max(peak, ...samples.map((s) => s.rss));
    const peakSample = { ...samples.at(-1)!, at: "peak (RSS only)", rss: top };
    for (const mark of marks) {
      await sleep(Math.max(0, left + mark * 1000 - performance.now()));
      samples.push(await server.sample(mark === 0 ? "all left" : `all left +${mark} s`));
    }
    const counts = await server.counts();
    samples.splice(3, 0, peakSample);
    const kinds: [string, ResidentByKind][] = [
      ["idle before", idleKinds],
      [`all left +${settle} s`, residentByKind(server.child.pid)],
    ];
    if (flags["malloc-trim"]) {
      await server.mallocTrim();
      samples.push(await server.sample("after malloc_trim(0)"));
      kinds.push(["after malloc_trim(0)", residentByKind(server.child.pid)]);
    }
    console.log(table(samples));
    console.log(
      `after all left: /healthz subscribers ${counts.subscribers}, channels ${counts.channels}; /stats ${counts.stats}`,
    );
    for (const [when, k] of kinds) {
      console.log(
        `resident ${when}: main arena ${mb(k.mainArena)} MB, thread arenas ${
          mb(k.threadArenas)
        } MB, other anonymous ${mb(k.otherAnonymous)} MB, files ${mb(k.files)} MB`,
      );
    }
    if (flags.json) {
      await Deno.writeTextFile(
        flags.json,
        JSON.stringify(
          { transport: flags.transport, clients, rounds, env, samples, counts, kinds },
          null,
          2,
        ),
      );
    }
  } finally {
    clearInterval(peaker);
    await server.stop();
  }
}

if (import.meta.main) await main();
