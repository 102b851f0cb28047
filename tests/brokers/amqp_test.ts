import { assert, assertEquals } from "@std/assert";
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
      "a client reconnecting to an instance that was listening gets exactly what it missed, same ids",
      async () => {
        await using pair = await instances("t5");
        const { a, b } = pair;
        await using watcher = await subscribeTo(b, "x");
        let seen: string;
        {
          await using onA = await subscribeTo(a, "x");
          seen = await publishOk(a.url.origin, "x", "e1");
          assertEquals((await onA.nextEvent(15_000)).id, seen);
        }
        const missed = await publishOk(a.url.origin, "x", "e2");
        assertEquals((await watcher.events(2, 15_000)).map((e) => e.id), [seen, missed]);
        await using onB = await openSse(`${b.url.href}?channels=x`, { "last-event-id": seen });
        const event = await onB.nextEvent(15_000);
        assertEquals([event.event, event.id, event.data], [undefined, missed, "e2"]);
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
