import { assert, assertEquals } from "@std/assert";
import { channelSubscribers, spawnHub } from "../_helpers/process.ts";
import { openSse, type SseMessage, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("draining turns healthz 503, refuses new subscribers, and closes streams spread out with a jittered retry", async () => {
  await using t = await startTestServer({ drainMs: 1000, retryMs: 2000 });
  const streams = await Promise.all(
    Array.from({ length: 30 }, () => openSse(`${t.origin}/?channels=a`)),
  );
  await waitFor(() => t.server.hub.subscriberCount === 30, "subscriptions");
  const started = performance.now();
  const drained = t.server.drain();

  const health = await fetch(`${t.origin}/healthz`);
  assertEquals(health.status, 503);
  assertEquals((await health.json()).status, "draining");
  const refused = await fetch(`${t.origin}/?channels=a`);
  assertEquals(refused.status, 503);
  assertEquals(refused.headers.get("retry-after"), "2");
  await refused.body?.cancel();

  const endings = await Promise.all(streams.map(async (sse) => {
    const seen: SseMessage[] = [];
    try {
      for (;;) seen.push(await sse.next(5000));
    } catch {
      // the stream ended
    }
    await sse.close();
    return { at: performance.now() - started, retry: seen.at(-1)?.retry };
  }));
  await drained;
  const times = endings.map((e) => e.at).sort((a, b) => a - b);
  assert(times.at(-1)! - times[0] >= 300, `closed within ${times.at(-1)! - times[0]} ms`);
  assert(times.at(-1)! < 4000, `took ${times.at(-1)} ms`);
  const retries = new Set(endings.map((e) => e.retry));
  assert(!retries.has(undefined), "a stream closed without a retry line");
  assert(retries.size > 1, "every client was told the same retry delay");
  assert([...retries].every((r) => r! >= 2000 && r! < 3000));
});

Deno.test("--max-lifetime closes a connection after about that long", async () => {
  await using t = await startTestServer({ maxLifetimeMs: 300 });
  const sse = await openSse(`${t.origin}/?channels=a`);
  const started = performance.now();
  let ended = false;
  try {
    for (;;) await sse.next(3000);
  } catch (error) {
    // The server ends the connection, not only the body: a fetch reader
    // may see that as an error rather than a clean end; either is an end.
    ended = !String(error).includes("no SSE message");
  }
  const elapsed = performance.now() - started;
  await sse.close();
  assert(ended, "the stream did not end");
  assert(elapsed >= 250, `ended after ${elapsed} ms`);
  assertEquals(t.server.hub.counters.closed.lifetime, 1);
});

/** A stream read from a raw TCP socket, ended only when the connection ends. */
interface RawStream {
  /** The numbers of the `data: N` events received. */
  readonly received: Set<number>;
  /** Resolves with performance.now() when the server closed the connection. */
  readonly closed: Promise<number>;
}

/**
 * Opens `GET /?channels=…` over a plain socket, the way load generators and
 * many SSE clients read: the stream is over when the CONNECTION ends, not
 * when an HTTP/1.1 body's last chunk arrives.
 */
async function openRawStream(url: URL, channel: string): Promise<RawStream> {
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  await conn.write(
    new TextEncoder().encode(
      `GET /?channels=${channel} HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`,
    ),
  );
  const received = new Set<number>();
  const closed = (async () => {
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let text = "";
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        text += decoder.decode(buffer.subarray(0, n), { stream: true });
        const lines = text.split("\n");
        text = lines.pop()!;
        for (const line of lines) {
          const match = line.match(/^data: (\d+)$/);
          if (match) received.add(Number(match[1]));
        }
      }
    } catch {
      // reset by the server: ended all the same
    }
    const at = performance.now();
    conn.close();
    return at;
  })();
  return { received, closed };
}

/** Publishes `data: 1, 2, …` on `channel` every 50 ms until the server refuses; returns when each got its 200. */
async function publishUntilRefused(
  origin: string,
  channel: string,
): Promise<{ n: number; acceptedAt: number }[]> {
  const accepted: { n: number; acceptedAt: number }[] = [];
  for (let n = 1;; n++) {
    try {
      const response = await fetch(`${origin}/publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel, data: String(n) }),
      });
      await response.body?.cancel();
      if (response.status !== 200) return accepted;
    } catch {
      return accepted; // the server has gone
    }
    accepted.push({ n, acceptedAt: performance.now() });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const transport of ["serve", "node"] as const) {
  Deno.test(`[${transport}] on SIGTERM each stream's connection ends at its own moment across --drain-seconds, with every event accepted before then`, async () => {
    const drainMs = 2000;
    const count = 150;
    await using hub = await spawnHub([
      "--transport",
      transport,
      "--drain-seconds",
      String(drainMs / 1000),
      "--heartbeat",
      "0",
    ]);
    const streams = await Promise.all(
      Array.from({ length: count }, () => openRawStream(hub.url, "drain")),
    );
    await waitFor(
      async () => (await channelSubscribers(hub, "drain")) === count,
      `${count} subscriptions`,
      15_000,
    );

    const started = performance.now();
    const stopped = hub.stop("SIGTERM");
    const accepted = await publishUntilRefused(hub.url.origin, "drain");
    const ends = await Promise.all(streams.map((stream) => stream.closed));
    assertEquals((await stopped).code, 0);

    const times = ends.map((at) => at - started).sort((a, b) => a - b);
    const first = times[0];
    const spread = times.at(-1)! - first;
    let undelivered = 0;
    streams.forEach((stream, i) => {
      for (const { n, acceptedAt } of accepted) {
        if (acceptedAt < ends[i] && !stream.received.has(n)) undelivered++;
      }
    });
    console.log(
      `[${transport}] connections ended from ${first.toFixed(0)} to ${
        times.at(-1)!.toFixed(0)
      } ms after SIGTERM (drain ${drainMs} ms); ${accepted.length} events accepted, ${undelivered} (event, open stream) pairs undelivered`,
    );
    assert(accepted.length > 10, `only ${accepted.length} events were accepted during the drain`);
    // (a) The connections end spread out, not together at exit.
    assert(first < 0.4 * drainMs, `the first connection ended only ${first.toFixed(0)} ms in`);
    assert(spread >= 0.5 * drainMs, `all connections ended within ${spread.toFixed(0)} ms`);
    // (b) An event accepted while a stream's connection was open reached it.
    assertEquals(undelivered, 0);
  });
}
