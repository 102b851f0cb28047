import { assertEquals } from "@std/assert";
import { spawnPair, subscribeTo } from "../_helpers/process.ts";
import { openSse, publishJson } from "../_helpers/server.ts";
import { rabbitMissing, redisMissing, startRabbit, startRedis } from "../_helpers/services.ts";

/** Publishes `data` on `origin` and returns its id. */
async function publish(origin: string, body: Record<string, unknown>): Promise<string> {
  const { status, body: answer } = await publishJson(origin, body);
  assertEquals(status, 200, JSON.stringify(answer));
  return String(answer.id);
}

/**
 * A publish with `retry` on instance a reaches b's subscriber with its
 * `retry:` line, and b replays it with that line after `Last-Event-ID`.
 */
async function assertRetryTravels(args: string[]): Promise<void> {
  await using pair = await spawnPair(args);
  const { a, b } = pair;
  await using live = await subscribeTo(b, "r");
  await publish(a.url.origin, { channel: "r", data: "first" });
  await publish(a.url.origin, { channel: "r", data: "second", retry: 4321 });
  const events = await live.events(2, 15_000);
  assertEquals(events.map((e) => [e.data, e.retry]), [["first", undefined], ["second", 4321]]);
  // The id b gave it (with AMQP, ids are each instance's own).
  await using replay = await openSse(`${b.url.href}?channels=r`, {
    "last-event-id": events[0].id!,
  });
  const replayed = await replay.nextEvent(15_000);
  assertEquals([replayed.data, replayed.retry], ["second", 4321]);
}

Deno.test({
  name: "with Redis, an event's retry reaches other instances and is replayed from Redis",
  ignore: redisMissing !== undefined,
  async fn() {
    await using redis = await startRedis();
    await assertRetryTravels(["--broker", "redis", "--redis-url", redis.url]);
  },
});

Deno.test({
  name: "with RabbitMQ, an event's retry reaches other instances and is replayed",
  ignore: rabbitMissing !== undefined,
  sanitizeResources: false, // amqplib's sockets outlive the test by design
  sanitizeOps: false,
  async fn() {
    await using rabbit = await startRabbit();
    await assertRetryTravels(["--broker", "amqp", "--amqp-url", rabbit.url]);
  },
});
