import { assert, assertEquals } from "@std/assert";
import {
  assertCrossInstanceDelivery,
  assertDisconnectEverywhere,
  assertMultiChannelCursor,
  assertQuietChannelSurvivesBusyOne,
  pairOrigins,
} from "../_helpers/broker_contract.ts";
import { channelSubscribers, spawnHub, spawnPair, subscribeTo } from "../_helpers/process.ts";
import { openSse, publishJson, type SseStream, waitFor } from "../_helpers/server.ts";
import { redisMissing, type RedisServer, startRedis } from "../_helpers/services.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: redisMissing !== undefined, fn });

/** Two sse-hub instances sharing one Redis. */
const twoInstances = (redis: RedisServer, ...args: string[]) =>
  spawnPair([
    "--broker",
    "redis",
    "--redis-url",
    redis.url,
    "--heartbeat",
    "200ms",
    "--client-token-secret",
    "shared",
    ...args,
  ]);

test("a publish on one instance reaches subscribers on every instance, once each, with one id", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await assertCrossInstanceDelivery(pair, { sharedIds: true });
});

test("redis-cli PUBLISH delivers the raw message verbatim on every instance, without an id", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  const { a, b } = pair;
  await using onA = await subscribeTo(a, "news");
  await using onB = await subscribeTo(b, "news");
  assertEquals(await redis.cli("PUBLISH", "news", '[1, 2, "three"]'), "2");
  for (const sse of [onA, onB]) {
    const event = await sse.nextEvent(15_000);
    assertEquals([event.id, event.data], [undefined, '[1, 2, "three"]']);
  }
});

test("with --redis-prefix, raw messages are read from the prefixed Redis channel", async () => {
  await using redis = await startRedis();
  await using hub = await spawnHub([
    "--broker",
    "redis",
    "--redis-url",
    redis.url,
    "--redis-prefix",
    "app1:",
  ]);
  await using sse = await subscribeTo(hub, "news");
  assertEquals(await redis.cli("PUBLISH", "news", "unprefixed"), "0");
  assertEquals(await redis.cli("PUBLISH", "app1:news", "prefixed"), "1");
  assertEquals((await sse.nextEvent(15_000)).data, "prefixed");
});

test("a client reconnecting to another instance gets exactly what it missed, then live events once", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  const { a, b } = pair;
  const first = await subscribeTo(a, "feed");
  const ids: string[] = [];
  for (let i = 1; i <= 2; i++) {
    ids.push(
      (await publishJson(a.url.origin, { channel: "feed", data: `m${i}` })).body.id as string,
    );
  }
  assertEquals((await first.events(2)).map((e) => e.id), ids);
  await first.close();
  for (let i = 3; i <= 5; i++) {
    ids.push(
      (await publishJson(a.url.origin, { channel: "feed", data: `m${i}` })).body.id as string,
    );
  }
  await publishJson(a.url.origin, { channel: "elsewhere", data: "not for feed" });
  await using again = await subscribeTo(b, "feed", { "last-event-id": ids[1] });
  assertEquals((await again.events(3)).map((e) => e.data), ["m3", "m4", "m5"]);
  await publishJson(b.url.origin, { channel: "feed", data: "m6" });
  const live = await again.nextEvent(15_000);
  assertEquals(live.data, "m6");
  await assertNoMoreEvents(again);
});

/** Reads for one second and fails on any event that carries data (heartbeats are fine). */
async function assertNoMoreEvents(sse: SseStream) {
  const until = Date.now() + 1000;
  while (Date.now() < until) {
    let message;
    try {
      message = await sse.next(until - Date.now());
    } catch {
      return; // silence until the deadline
    }
    assertEquals(message.data, undefined, `unexpected extra event ${JSON.stringify(message)}`);
  }
}

test("a Last-Event-ID older than the Redis history gets a gap signal", async () => {
  await using redis = await startRedis();
  await using hub = await spawnHub([
    "--broker",
    "redis",
    "--redis-url",
    redis.url,
    "--history-size",
    "10",
  ]);
  const first = (await publishJson(hub.url.origin, { channel: "g", data: "0" })).body.id as string;
  // Redis trims approximately, whole stream nodes of 100 entries at a time.
  for (let i = 1; i <= 250; i++) {
    await publishJson(hub.url.origin, { channel: "g", data: String(i) });
  }
  assert(Number(await redis.cli("XLEN", "sse-hub:history")) < 250);
  await using sse = await openSse(`${hub.url.href}?channels=g`, { "last-event-id": first });
  const gap = await sse.nextEvent(15_000);
  assertEquals(gap.event, "sse-hub.gap");
  assertEquals(JSON.parse(gap.data!).reason, "evicted");
  assertEquals((await sse.nextEvent(15_000)).event, undefined);
});

test("while Redis is down streams stay open and publish answers 503; after it is back all works and history is intact", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  const { a, b } = pair;
  await using onB = await subscribeTo(b, "live");
  const before = await publishJson(a.url.origin, { channel: "live", data: "before" });
  assertEquals((await onB.nextEvent(15_000)).data, "before");

  await redis.stop();
  await waitFor(
    async () => (await fetch(new URL("/healthz", a.url))).status === 503,
    "healthz 503",
  );
  const down = await publishJson(a.url.origin, { channel: "live", data: "lost?" });
  assertEquals(down.status, 503);
  assert(String(down.body.error).includes("Redis"), String(down.body.error));
  // The stream is still open: heartbeats keep coming while Redis is down.
  assertEquals((await onB.next(3000)).comment, " heartbeat");

  await redis.start();
  await waitFor(
    async () =>
      (await fetch(new URL("/healthz", a.url))).status === 200 &&
      (await fetch(new URL("/healthz", b.url))).status === 200,
    "both instances reconnected",
    15_000,
  );
  let after;
  // The subscriber connection resubscribes on its own; retry until it has.
  await waitFor(
    async () => {
      after = await publishJson(a.url.origin, { channel: "live", data: "after" });
      return after.status === 200;
    },
    "publish works again",
    10_000,
  );
  let event;
  do event = await onB.nextEvent(10_000); while (event.data !== "after");

  // What was published before the outage is still in history (an id from
  // before anything Redis holds is answered with everything, after a gap).
  await using replay = await openSse(`${b.url.href}?channels=live`, { "last-event-id": "0-1" });
  const replayed = await replay.events(3);
  assertEquals(JSON.parse(replayed[0].data!).reason, "unknown-id");
  assertEquals(replayed.slice(1).map((e) => e.id), [
    before.body.id,
    (after as unknown as { body: { id: string } }).body.id,
  ]);
});

test("a publish to client:TOKEN on one instance reaches that connection on another", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await using tab = await openSse(`${pair.b.url.href}?channels=news&client=new`);
  await tab.clientToken();
  await waitFor(async () => (await channelSubscribers(pair.b, "news")) === 1, "subscription");
  const { body } = await publishJson(pair.a.url.origin, {
    channel: `client:${tab.client}`,
    data: "only you",
  });
  assertEquals(body.status, "ok");
  assertEquals((await tab.nextEvent(15_000)).data, "only you");
  // Routing by channel: the connection's client channel has its own
  // subscription, and takes no raw messages.
  const channels = (await redis.cli("PUBSUB", "CHANNELS")).split("\n").sort();
  assertEquals(channels, [
    "news",
    "sse-hub:control",
    `sse-hub:events:{client:${tab.client}}`,
    "sse-hub:events:{news}",
  ]);
});

test("a client: channel's stream expires in Redis an hour after its last message; a channel's does not", async () => {
  await using redis = await startRedis();
  await using hub = await spawnHub(["--broker", "redis", "--redis-url", redis.url]);
  await using tab = await openSse(`${hub.url.href}?channels=news&client=new`);
  const token = await tab.clientToken();
  for (const channel of [`client:${token}`, "news"]) {
    assertEquals((await publishJson(hub.url.origin, { channel, data: "x" })).status, 200);
  }
  const ttl = Number(await redis.cli("PTTL", `sse-hub:history:{client:${token}}`));
  assert(ttl > 3_500_000 && ttl <= 3_600_000, `PTTL ${ttl}`);
  assertEquals(await redis.cli("PTTL", "sse-hub:history:{news}"), "-1");
});

test("an id older than a client: channel's stream lifetime gets unknown-id for that channel only", async () => {
  await using redis = await startRedis();
  await using hub = await spawnHub(["--broker", "redis", "--redis-url", redis.url]);
  await using first = await openSse(`${hub.url.href}?channels=news&client=new`);
  const token = await first.clientToken();
  await redis.cli("SET", "sse-hub:floor", "1-0"); // as if Redis had held data for long
  const old = `${Date.now() - 2 * 3_600_000}-0`;
  await using again = await openSse(`${hub.url.href}?channels=news&client=${token}`, {
    "last-event-id": old,
  });
  const gap = await again.nextEvent();
  assertEquals(JSON.parse(gap.data!), {
    reason: "unknown-id",
    channels: [`client:${token}`],
    lastEventId: old,
  });
});

test("a quiet channel's events survive a busy one, replayed on the other instance", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await assertQuietChannelSurvivesBusyOne(pairOrigins(pair));
});

test("one Last-Event-ID is an exact cursor over several channels on the other instance", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await assertMultiChannelCursor(pairOrigins(pair));
});

test("POST /disconnect with stop on one instance closes and refuses the client on the other", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await assertDisconnectEverywhere(pairOrigins(pair));
});

test("an instance receives only the channels it has subscribers on (Redis output ≤ 1.5× the event bytes)", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await using sse = await subscribeTo(pair.a, "wanted");
  const outputBytes = async () =>
    Number((await redis.cli("INFO", "stats")).match(/total_net_output_bytes:(\d+)/)![1]);
  const data = "x".repeat(20 * 1024);
  const before = await outputBytes();
  for (let i = 0; i < 200; i++) {
    const { status } = await publishJson(pair.b.url.origin, { channel: "wanted", data });
    assertEquals(status, 200);
  }
  for (let i = 0; i < 200; i++) await sse.nextEvent(10_000);
  const ratio = (await outputBytes() - before) / (200 * data.length);
  console.log(`Redis output: ${ratio.toFixed(2)}× the event bytes`);
  assert(ratio <= 1.5, `Redis sent ${ratio.toFixed(2)}× the event bytes`);
});

test("clients reconnecting during a short Redis outage get their exact replay; the outage is logged once", async () => {
  await using redis = await startRedis();
  await using hub = await spawnHub(["--broker", "redis", "--redis-url", redis.url]);
  const { status, body } = await publishJson(hub.url.origin, { channel: "n", data: "before" });
  assertEquals(status, 200);
  await redis.stop();
  await waitFor(async () => (await fetch(new URL("/healthz", hub.url))).status === 503, "503");
  const clients = await Promise.all(
    Array.from(
      { length: 5 },
      () => openSse(`${hub.url.href}?channels=n`, { "last-event-id": String(body.id) }),
    ),
  );
  assertEquals((await publishJson(hub.url.origin, { channel: "n", data: "refused" })).status, 503);
  await redis.start();
  await waitFor(
    async () => (await fetch(new URL("/healthz", hub.url))).status === 200,
    "recovery",
    15_000,
  );
  assertEquals((await publishJson(hub.url.origin, { channel: "n", data: "after" })).status, 200);
  // Nothing was missed while Redis was away: no gap, no repeat of "before".
  for (const sse of clients) assertEquals((await sse.nextEvent(10_000)).data, "after");
  for (const sse of clients) await sse.close();
  const lines = hub.stderr().split("\n");
  assertEquals(lines.filter((l) => l.includes("Redis is unreachable")).length, 1, hub.stderr());
  assertEquals(lines.filter((l) => l.includes("[WRN]")).length, 1, hub.stderr());
  const back = lines.filter((l) => l.includes("Redis is back after"));
  assertEquals(back.length, 1, hub.stderr());
  assert(back[0].includes("refused 1 publishes"), back[0]);
  assertEquals(lines.filter((l) => /^\s+at /.test(l)).length, 0, "no stack traces");
});

test("after an outage, a channel's catch-up starts where this instance began listening to it", async () => {
  await using redis = await startRedis();
  await using pair = await twoInstances(redis);
  await publishJson(pair.b.url.origin, { channel: "w", data: "before anyone listened" });
  await using sse = await subscribeTo(pair.a, "w");
  await redis.stop();
  await waitFor(async () => (await fetch(new URL("/healthz", pair.a.url))).status === 503, "503");
  await redis.start();
  await waitFor(
    async () =>
      (await fetch(new URL("/healthz", pair.a.url))).status === 200 &&
      (await fetch(new URL("/healthz", pair.b.url))).status === 200,
    "both instances caught up",
    15_000,
  );
  assertEquals((await publishJson(pair.b.url.origin, { channel: "w", data: "after" })).status, 200);
  assertEquals((await sse.nextEvent(10_000)).data, "after");
});
