import { assert, assertEquals } from "@std/assert";
import { assertCrossInstanceDelivery, publishOk } from "../_helpers/broker_contract.ts";
import { channelSubscribers, spawnPair, subscribeTo } from "../_helpers/process.ts";
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
