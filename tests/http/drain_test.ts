import { assert, assertEquals } from "@std/assert";
import { openSse, type SseMessage, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("draining turns healthz 503, refuses new subscribers, and closes streams spread out with a jittered retry", async () => {
  await using t = await startTestServer({ drainSeconds: 1000, retry: 2000 });
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
  await using t = await startTestServer({ maxLifetime: 300 });
  const sse = await openSse(`${t.origin}/?channels=a`);
  const started = performance.now();
  let ended = false;
  try {
    for (;;) await sse.next(3000);
  } catch (error) {
    ended = String(error).includes("ended");
  }
  const elapsed = performance.now() - started;
  await sse.close();
  assert(ended, "the stream did not end");
  assert(elapsed >= 250, `ended after ${elapsed} ms`);
  assertEquals(t.server.hub.counters.closed.lifetime, 1);
});
