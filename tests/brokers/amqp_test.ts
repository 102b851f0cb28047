import { assert, assertEquals } from "@std/assert";
import { compareIds } from "../../src/ids.ts";
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import {
  assertCrossInstanceDelivery,
  assertDisconnectEverywhere,
  pairOrigins,
  publishOk,
} from "../_helpers/broker_contract.ts";
import {
  channelSubscribers,
  healthStatus as healthy,
  spawnPair,
  subscribeTo,
} from "../_helpers/process.ts";
import { openSse, publishJson, waitFor } from "../_helpers/server.ts";
import { rabbitMissing, startRabbit } from "../_helpers/services.ts";

// One RabbitMQ node (it takes seconds to start) serves every step; each step
// uses its own exchange so they do not see each other's messages.
Deno.test({
  name: "two sse-hub instances share events through one RabbitMQ",
  ignore: rabbitMissing !== undefined,
  sanitizeResources: false, // amqplib's sockets outlive a step by design
  sanitizeOps: false,
  async fn(t) {
    await using rabbit = await startRabbit();
    const instances = (exchange: string) =>
      spawnPair([
        "--broker",
        "amqp",
        "--amqp-url",
        rabbit.url,
        "--amqp-exchange",
        exchange,
        "--client-token-secret",
        "shared",
      ]);

    await t.step(
      "a publish on one instance reaches subscribers on every instance, once each",
      async () => {
        await using pair = await instances("t1");
        await assertCrossInstanceDelivery(pair, { sharedIds: false });
      },
    );

    await t.step(
      "a message any AMQP client publishes with routing key = channel is delivered verbatim",
      async () => {
        await using pair = await instances("t2");
        const { a, b } = pair;
        await using onA = await subscribeTo(a, "news");
        await using onB = await subscribeTo(b, "news");
        const connection = await amqp.connect(rabbit.url);
        try {
          const channel = await connection.createConfirmChannel();
          await channel.assertExchange("t2", "direct", { durable: true });
          channel.publish("t2", "news", Buffer.from('["comment", "123"]'));
          channel.publish("t2", "unwatched", Buffer.from("nobody"));
          await channel.waitForConfirms();
        } finally {
          await connection.close();
        }
        for (const sse of [onA, onB]) {
          assertEquals((await sse.nextEvent(15_000)).data, '["comment", "123"]');
        }
      },
    );

    await t.step(
      "a client reconnecting to an instance that was not listening to its channel gets unknown-id, not silence",
      async () => {
        await using pair = await instances("t4");
        const { a, b } = pair;
        let seen: string;
        {
          await using onA = await subscribeTo(a, "x");
          seen = await publishOk(a.url.origin, "x", "e1");
          assertEquals((await onA.nextEvent(15_000)).id, seen);
        }
        await publishOk(a.url.origin, "x", "e2");
        await using onB = await openSse(`${b.url.href}?channels=x`, { "last-event-id": seen });
        const gap = await onB.nextEvent(15_000);
        assertEquals(gap.event, "sse-hub.gap");
        assertEquals(JSON.parse(gap.data!).reason, "unknown-id");
        await waitFor(async () => (await channelSubscribers(b, "x")) === 1, "subscription");
        await publishOk(a.url.origin, "x", "e3");
        assertEquals((await onB.nextEvent(15_000)).data, "e3");
      },
    );

    await t.step(
      "a client reconnecting to the same instance gets exactly what it missed",
      async () => {
        await using pair = await instances("t5");
        const { a, b } = pair;
        await using watcher = await subscribeTo(a, "x");
        await publishOk(b.url.origin, "x", "e1");
        const first = await watcher.nextEvent(15_000);
        await publishOk(b.url.origin, "x", "e2");
        const missed = await watcher.nextEvent(15_000);
        assertEquals([first.data, missed.data], ["e1", "e2"]);
        await using again = await openSse(`${a.url.href}?channels=x`, {
          "last-event-id": first.id!,
        });
        const event = await again.nextEvent(15_000);
        assertEquals([event.event, event.id, event.data], [undefined, missed.id, "e2"]);
      },
    );

    await t.step(
      "a cursor from another instance gets unknown-id, then what this instance holds",
      async () => {
        await using pair = await instances("t7");
        const { a, b } = pair;
        await using onA = await subscribeTo(a, "x");
        await using onB = await subscribeTo(b, "x");
        await publishOk(a.url.origin, "x", "e1");
        const fromA = await onA.nextEvent(15_000);
        await onB.nextEvent(15_000);
        await using moved = await openSse(`${b.url.href}?channels=x`, {
          "last-event-id": fromA.id!,
        });
        const gap = await moved.nextEvent(15_000);
        assertEquals([gap.event, JSON.parse(gap.data!).reason], ["sse-hub.gap", "unknown-id"]);
      },
    );

    await t.step(
      "concurrent publishes on two instances each reach a subscriber once, in increasing ids",
      async () => {
        await using pair = await instances("t8");
        const { a, b } = pair;
        await using onA = await subscribeTo(a, "c");
        await waitFor(async () => (await channelSubscribers(a, "c")) === 1, "subscription");
        await Promise.all(
          [a, b].flatMap((hub) =>
            Array.from(
              { length: 100 },
              (_, i) => publishOk(hub.url.origin, "c", `${hub.url.port}-${i}`),
            )
          ),
        );
        const events = await onA.events(200, 15_000);
        assertEquals(new Set(events.map((e) => e.data)).size, 200);
        const ids = events.map((e) => e.id!);
        for (let i = 1; i < ids.length; i++) {
          assert(compareIds(ids[i - 1], ids[i]) < 0, `${ids[i - 1]} then ${ids[i]}`);
        }
      },
    );

    await t.step(
      "a channel name over AMQP's 255-byte routing key limit gets 400",
      async () => {
        await using pair = await instances("t9");
        const long = "é".repeat(150);
        const subscribe = await fetch(`${pair.a.url.href}?channels=${encodeURIComponent(long)}`);
        assertEquals(subscribe.status, 400);
        assert((await subscribe.json()).error.includes("255 bytes"));
        const { status } = await publishJson(pair.a.url.origin, { channel: long, data: "x" });
        assertEquals(status, 400);
        await publishOk(pair.a.url.origin, "short", "the instance still works");
      },
    );

    await t.step(
      "POST /disconnect with stop on one instance closes and refuses the client on the other",
      async () => {
        await using pair = await instances("t6");
        await assertDisconnectEverywhere(pairOrigins(pair));
      },
    );

    await t.step(
      "while RabbitMQ restarts publish answers 503, then the instances reconnect and deliver again",
      async () => {
        await using pair = await instances("t3");
        const { a, b } = pair;
        await using onB = await subscribeTo(b, "live");
        await publishJson(a.url.origin, { channel: "live", data: "before" });
        assertEquals((await onB.nextEvent(15_000)).data, "before");

        await rabbit.stop();
        await waitFor(async () => (await healthy(a)) === 503, "healthz 503", 15_000);
        const down = await publishJson(a.url.origin, { channel: "live", data: "lost?" });
        assertEquals(down.status, 503);
        assert(String(down.body.error).includes("RabbitMQ"), String(down.body.error));

        await rabbit.start();
        await waitFor(
          async () => (await healthy(a)) === 200 && (await healthy(b)) === 200,
          "both instances reconnected",
          30_000,
        );
        // The instance's queue died with its connection: what was published
        // meanwhile never reached it, and its subscribers are told so.
        const gap = await onB.nextEvent(10_000);
        assertEquals(gap.event, "sse-hub.gap");
        assertEquals(JSON.parse(gap.data!).reason, "interrupted");
        await publishJson(a.url.origin, { channel: "live", data: "after" });
        assertEquals((await onB.nextEvent(10_000)).data, "after");
      },
    );
  },
});
