/**
 * What one event of replay history costs: in sse-hub's memory (the memory
 * and AMQP brokers' per-channel history) and in Redis (the Redis broker's
 * per-channel streams). Prints one line per store.
 *
 *   deno run -A bench/history_memory.ts [--events 20000] [--data-bytes 100] [--channels 100]
 *
 * Redis figures need `redis-server` on PATH; one is started on a free
 * loopback port and stopped afterwards.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { RedisBroker } from "../src/brokers/redis.ts";
import { createEvent } from "../src/event.ts";
import { History } from "../src/history.ts";

const flags = parseArgs(Deno.args, { string: ["events", "data-bytes", "channels"] });
const events = Number(flags.events ?? 20_000);
const dataBytes = Number(flags["data-bytes"] ?? 100);
const channels = Number(flags.channels ?? 100);
const data = "x".repeat(dataBytes);
const channelOf = (i: number) => `channel-${i % channels}`;

/** Bytes of JS heap after a full collection, when --v8-flags=--expose-gc is given. */
function heapUsed(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Deno.memoryUsage().heapUsed;
}

function memoryHistory(): void {
  const before = heapUsed();
  const history = new History({ size: events, floor: { ms: 0, seq: 0 } });
  for (let i = 0; i < events; i++) {
    history.append(createEvent({ channels: [channelOf(i)], data }, `${1000 + i}-0`));
  }
  const perEvent = (heapUsed() - before) / events;
  console.log(
    `memory history: ${perEvent.toFixed(0)} B of heap per event ` +
      `(${dataBytes}-byte data, ${channels} channels; History's own estimate ${
        (history.bytes / events).toFixed(0)
      } B)`,
  );
}

async function redisHistory(): Promise<void> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  let server: Deno.ChildProcess;
  try {
    server = new Deno.Command("redis-server", {
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      stdout: "null",
      stderr: "null",
    }).spawn();
  } catch {
    console.log("redis history: skipped (no redis-server on PATH)");
    return;
  }
  const cli = async (...args: string[]) =>
    new TextDecoder().decode(
      (await new Deno.Command("redis-cli", { args: ["-p", String(port), ...args], stdout: "piped" })
        .output()).stdout,
    ).trim();
  while ((await cli("PING").catch(() => "")) !== "PONG") {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const usedMemory = async () =>
    Number((await cli("INFO", "memory")).match(/used_memory:(\d+)/)![1]);
  const broker = new RedisBroker({
    url: `redis://127.0.0.1:${port}/0`,
    prefix: "",
    historySize: events,
    historyTtlMs: 0,
  });
  await broker.start({ deliver: () => 0, interrupted: () => {}, control: () => {} });
  const before = await usedMemory();
  for (let i = 0; i < events; i += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, events - i) },
        (_, j) => broker.publish({ channels: [channelOf(i + j)], data }),
      ),
    );
  }
  const perEvent = (await usedMemory() - before) / events;
  console.log(
    `redis history: ${perEvent.toFixed(0)} B of Redis memory per event ` +
      `(${dataBytes}-byte data, ${channels} channels, one stream each)`,
  );
  await broker.close();
  server.kill("SIGKILL");
  await server.status;
}

memoryHistory();
await redisHistory();
