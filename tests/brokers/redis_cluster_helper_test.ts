/**
 * The Redis Cluster test helper starts a working cluster and fails a master
 * over to its replica. Each test prints how long those steps took.
 *
 * @module
 */

import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { redisMissing, startRedisCluster } from "../_helpers/redis_cluster.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: redisMissing !== undefined, fn });

test("a three-master cluster serves keys on every master", async () => {
  const started = performance.now();
  await using cluster = await startRedisCluster({ masters: 3 });
  console.log(`3 masters ready in ${Math.round(performance.now() - started)} ms`);
  const masters = await cluster.masters();
  assertEquals(masters.length, 3);
  assertEquals(cluster.seeds.split(",").length, 3);
  const seed = cluster.nodes[0];
  const keyOn = new Map<number, string>();
  for (let i = 0; keyOn.size < masters.length; i++) {
    assert(i < 1000, `1000 keys did not cover every master: ${[...keyOn.keys()]}`);
    const key = `key-${i}`;
    assertEquals(await seed.cli("-c", "SET", key, `value-${i}`), "OK");
    const master = await cluster.masterOf(key);
    if (!keyOn.has(master)) keyOn.set(master, key);
  }
  for (const [port, key] of keyOn) {
    const node = cluster.nodes.find((n) => n.port === port)!;
    assertEquals(await node.cli("GET", key), `value-${key.slice(4)}`);
  }
});

test("killing a master promotes its replica", async () => {
  const started = performance.now();
  await using cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  console.log(`3 masters + 3 replicas ready in ${Math.round(performance.now() - started)} ms`);
  assertEquals(cluster.nodes.length, 6);
  assertEquals((await cluster.masters()).length, 3);
  const key = "failover-key";
  const before = await cluster.masterOf(key);
  const master = cluster.nodes.find((n) => n.port === before)!;
  assertEquals(await master.cli("SET", key, "before"), "OK");
  assertEquals(await master.cli("WAIT", "1", "2000"), "1");

  const failing = performance.now();
  const { killed, promoted } = await cluster.failover(key);
  console.log(`failover ${killed} -> ${promoted} in ${Math.round(performance.now() - failing)} ms`);
  assertEquals(killed, before);
  assertNotEquals(promoted, killed);
  assert(!master.alive);
  assertEquals(await cluster.masterOf(key), promoted);
  assertEquals((await cluster.masters()).length, 3);
  const node = cluster.nodes.find((n) => n.port === promoted)!;
  assertEquals(await node.cli("GET", key), "before");
  assertEquals(await node.cli("SET", key, "after"), "OK");
  assertEquals(await node.cli("GET", key), "after");
});
