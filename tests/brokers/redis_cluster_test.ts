import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { assertCrossInstanceDelivery, publishOk } from "../_helpers/broker_contract.ts";
import { channelSubscribers, runMain, spawnPair, subscribeTo } from "../_helpers/process.ts";
import { freePort } from "../_helpers/services.ts";
import { type RedisCluster, redisMissing, startRedisCluster } from "../_helpers/redis_cluster.ts";
import { openSse, waitFor } from "../_helpers/server.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: redisMissing !== undefined, fn });

/** Two sse-hub instances on one cluster. */
const twoInstances = (cluster: RedisCluster, ...args: string[]) =>
  spawnPair([
    "--broker",
    "redis",
    "--redis-cluster",
    cluster.seeds,
    "--client-token-secret",
    "shared",
    ...args,
  ]);

/** Channel names `prefix0`, `prefix1`, … whose slots are on `count` different masters. */
async function channelsOnDifferentShards(
  cluster: RedisCluster,
  prefix: string,
  count: number,
): Promise<string[]> {
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < count && i < 200; i++) {
    const channel = `${prefix}${i}`;
    const master = await cluster.masterOf(`{${channel}}`);
    if (!byMaster.has(master)) byMaster.set(master, channel);
  }
  assertEquals(byMaster.size, count, "channels on enough shards");
  return [...byMaster.values()];
}

test("on a cluster, a publish on one instance reaches subscribers on both, once each", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  await assertCrossInstanceDelivery(pair, { sharedIds: false });
});

test("on a cluster, channels are carried by sharded pub/sub on more than one master", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  const channels = Array.from({ length: 12 }, (_, i) => `spread${i}`);
  await using _sse = await openSse(`${pair.b.url.href}?channels=${channels.join(",")}`);
  await waitFor(
    async () => (await channelSubscribers(pair.b, channels.at(-1)!)) > 0,
    "subscription",
    15_000,
  );
  const carrying: number[] = [];
  for (const port of await cluster.masters()) {
    const node = cluster.nodes.find((n) => n.port === port)!;
    const listed = await node.cli("PUBSUB", "SHARDCHANNELS", "sse-hub:events:*");
    if (listed.trim() !== "") carrying.push(port);
  }
  assert(carrying.length > 1, `shard channels on ${carrying.length} master(s)`);
});

test("on a cluster, a client reconnecting to the other instance gets exactly what it missed on channels of different shards", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  const [x, y, z] = await channelsOnDifferentShards(cluster, "ch", 3);
  const first = pair.a.url.origin;
  let lastId: string;
  {
    await using sse = await subscribeTo(pair.a, `${x},${y}`);
    await publishOk(first, x, "x1");
    await publishOk(first, y, "y1");
    const seen = await sse.events(2, 10_000);
    assertEquals(seen.map((e) => e.data), ["x1", "y1"]);
    lastId = seen[1].id!;
  }
  await publishOk(first, y, "y2");
  await publishOk(first, z, "z1");
  await publishOk(first, [x, y], "xy");
  await publishOk(first, x, "x2");
  await using again = await openSse(`${pair.b.url.href}?channels=${x},${y}`, {
    "last-event-id": lastId,
  });
  const missed = await again.events(3, 10_000);
  assertEquals(missed.map((e) => e.data), ["y2", "xy", "x2"]);
  await waitFor(async () => (await channelSubscribers(pair.b, y)) > 0, "subscription", 15_000);
  await publishOk(pair.a.url.origin, y, "y3");
  const live = await again.nextEvent(10_000);
  assertEquals(live.data, "y3");
  // Its id covers both channels: reconnecting with it replays nothing more.
  await using third = await openSse(`${pair.a.url.href}?channels=${x},${y}`, {
    "last-event-id": live.id!,
  });
  await publishOk(first, x, "x3");
  assertEquals((await third.nextEvent(10_000)).data, "x3");
});

test("on a cluster, raw SPUBLISH and PUBLISH messages are delivered verbatim, without an id", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  await using sse = await subscribeTo(pair.b, "news");
  const port = await cluster.masterOf("news");
  await cluster.nodes.find((n) => n.port === port)!.cli("SPUBLISH", "news", "sharded");
  const sharded = await sse.nextEvent(10_000);
  assertEquals([sharded.id, sharded.data], [undefined, "sharded"]);
  await cluster.nodes[0].cli("PUBLISH", "news", "classic");
  const classic = await sse.nextEvent(10_000);
  assertEquals([classic.id, classic.data], [undefined, "classic"]);
});

Deno.test("a bad --redis-cluster seed stops the start with its value and a hint", async () => {
  const { code, stderr } = await runMain(["--broker", "redis", "--redis-cluster", "r0:99999"]);
  assertEquals(code, 2, stderr);
  assertStringIncludes(stderr, '"r0:99999" is not HOST:PORT');
});

Deno.test("an unreachable cluster stops the start with one line naming the seeds", async () => {
  const port = String(freePort());
  const { code, stderr } = await runMain([
    "--port",
    "0",
    "--broker",
    "redis",
    "--redis-cluster",
    `127.0.0.1:${port}`,
  ]);
  assertEquals(code, 1, stderr);
  assertStringIncludes(stderr, `cannot connect to the Redis Cluster at 127.0.0.1:${port}`);
  assertEquals(stderr.includes("Unhandled error"), false, stderr);
});

/**
 * Stores an event in `channel`'s stream and state the way the publish
 * script does, but publishes nothing: a copy whose pub/sub message was
 * lost (as in a failover).
 */
async function storeWithoutPublishing(cluster: RedisCluster, channel: string, data: string) {
  const port = await cluster.masterOf(`{${channel}}`);
  const node = cluster.nodes.find((n) => n.port === port)!;
  const last = await node.cli("HGET", `sse-hub:channel:{${channel}}`, "last");
  const [ms, seq] = last.split("-").map(Number);
  const id = `${ms}-${seq + 1}`;
  const channels = JSON.stringify([channel]);
  await node.cli("XADD", `sse-hub:history:{${channel}}`, id, "c", channels, "e", "", "d", data);
  await node.cli("HSET", `sse-hub:channel:{${channel}}`, "last", id);
}

test("on a cluster, a copy lost on pub/sub is read from the stream before the next one", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  await using sse = await subscribeTo(pair.b, "news");
  await publishOk(pair.a.url.origin, "news", "e1");
  assertEquals((await sse.nextEvent(10_000)).data, "e1");
  await storeWithoutPublishing(cluster, "news", "lost");
  await publishOk(pair.a.url.origin, "news", "e2");
  const events = await sse.events(2, 10_000);
  assertEquals(events.map((e) => e.data), ["lost", "e2"]);
});

test("on a cluster, a last copy lost on pub/sub still arrives, from the periodic comparison", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  await using sse = await subscribeTo(pair.b, "news");
  await publishOk(pair.a.url.origin, "news", "e1");
  assertEquals((await sse.nextEvent(10_000)).data, "e1");
  await storeWithoutPublishing(cluster, "news", "lost-last");
  // Nothing follows it; instances compare positions every 5 s.
  assertEquals((await sse.nextEvent(12_000)).data, "lost-last");
});

test("on a cluster, a cursor older than a trimmed stream gets an evicted gap, then what remains", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster, "--history-size", "3");
  let seen: string;
  {
    await using sse = await subscribeTo(pair.a, "news");
    await publishOk(pair.a.url.origin, "news", "n0");
    seen = (await sse.nextEvent(10_000)).id!;
  }
  for (let i = 1; i <= 300; i++) await publishOk(pair.a.url.origin, "news", `n${i}`);
  await using again = await openSse(`${pair.b.url.href}?channels=news`, { "last-event-id": seen });
  const gap = await again.nextEvent(10_000);
  assertEquals(gap.event, "sse-hub.gap");
  assertEquals(JSON.parse(gap.data!).reason, "evicted");
  const next = await again.nextEvent(10_000);
  assertEquals(next.data!.startsWith("n"), true);
  assert(Number(next.data!.slice(1)) > 1, next.data);
});

test("on a cluster, a plain id from a single Redis gets an unknown-id gap", async () => {
  await using cluster = await startRedisCluster();
  await using pair = await twoInstances(cluster);
  await using sse = await openSse(`${pair.a.url.href}?channels=news`, {
    "last-event-id": "1733140000000-0",
  });
  const gap = await sse.nextEvent(10_000);
  assertEquals([gap.event, JSON.parse(gap.data!).reason], ["sse-hub.gap", "unknown-id"]);
});
