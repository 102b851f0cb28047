import { assertEquals } from "@std/assert";
import { type HubProcess, spawnHub, subscribeTo } from "../_helpers/process.ts";
import { redisMissing, type RedisServer, startRedis } from "../_helpers/services.ts";

/** An sse-hub on `redis` with `--redis-format` `format` (none: the default). */
const hubOn = (redis: RedisServer, ...args: string[]): Promise<HubProcess> =>
  spawnHub(["--broker", "redis", "--redis-url", redis.url, ...args]);

// One Redis serves every step; each step starts its own sse-hub.
Deno.test({
  name: "tornado-sse and django-sse payloads published on Redis",
  ignore: redisMissing !== undefined,
  async fn(t) {
    await using redis = await startRedis();

    await t.step(
      "with --redis-format tornado, PUBLISH of [event, string] delivers that event, one data line per line",
      async () => {
        await using hub = await hubOn(redis, "--redis-format", "tornado");
        await using sse = await subscribeTo(hub, "sse");
        assertEquals(await redis.cli("PUBLISH", "sse", '["message", "line 1\\nline 2"]'), "1");
        const event = await sse.nextEvent(15_000);
        assertEquals([event.id, event.event, event.data], [undefined, "message", "line 1\nline 2"]);
      },
    );

    await t.step(
      "with --redis-format tornado, PUBLISH of [event, list of strings] delivers each string as a data line",
      async () => {
        await using hub = await hubOn(redis, "--redis-format", "tornado");
        await using sse = await subscribeTo(hub, "sse");
        assertEquals(await redis.cli("PUBLISH", "sse", '["update", ["a", "b"]]'), "1");
        const event = await sse.nextEvent(15_000);
        assertEquals([event.event, event.data], ["update", "a\nb"]);
      },
    );

    await t.step(
      "with --redis-format tornado, a payload that is no such array is delivered verbatim and warned about once",
      async () => {
        const hub = await hubOn(redis, "--redis-format", "tornado");
        try {
          await using sse = await subscribeTo(hub, "sse");
          await redis.cli("PUBLISH", "sse", "plain text");
          await redis.cli("PUBLISH", "sse", "[1, 2]");
          const events = await sse.events(2, 15_000);
          assertEquals(events.map((e) => [e.event, e.data]), [
            [undefined, "plain text"],
            [undefined, "[1, 2]"],
          ]);
        } finally {
          await hub.stop();
        }
        const warnings = hub.stderr().split("\n").filter((line) =>
          line.includes("delivered verbatim (--redis-format tornado")
        );
        assertEquals(warnings.length, 1, hub.stderr());
        assertEquals(warnings[0].includes("sse"), true, warnings[0]);
      },
    );

    await t.step(
      "by default (--redis-format raw), a tornado array is delivered verbatim, as cyclone-sse does",
      async () => {
        await using hub = await hubOn(redis);
        await using sse = await subscribeTo(hub, "sse");
        assertEquals(await redis.cli("PUBLISH", "sse", '["message", "hi"]'), "1");
        const event = await sse.nextEvent(15_000);
        assertEquals([event.event, event.data], [undefined, '["message", "hi"]']);
      },
    );
  },
});
