import { assert, assertEquals } from "@std/assert";
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import { runMain, spawnHub, subscribeTo } from "../_helpers/process.ts";
import { rabbitMissing, startRabbit } from "../_helpers/services.ts";

const EXCHANGE = "sse-cyclone-server";

/** Declares cyclone-sse's exchange as it and pika do (direct, not durable) and publishes `body`. */
async function publishAsCyclone(url: string, routingKey: string, body?: string): Promise<void> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange(EXCHANGE, "direct", { durable: false });
    if (body !== undefined) {
      channel.publish(EXCHANGE, routingKey, Buffer.from(body));
      await channel.waitForConfirms();
    }
  } finally {
    await connection.close();
  }
}

// One RabbitMQ node (it takes seconds to start) serves both steps.
Deno.test({
  name: "cyclone-sse's non-durable AMQP exchange",
  ignore: rabbitMissing !== undefined,
  sanitizeResources: false, // amqplib's sockets outlive a step by design
  sanitizeOps: false,
  async fn(t) {
    await using rabbit = await startRabbit();
    await publishAsCyclone(rabbit.url, "nobody");
    const amqpArgs = ["--broker", "amqp", "--amqp-url", rabbit.url, "--amqp-exchange", EXCHANGE];

    await t.step(
      "with --amqp-exchange-durable false, sse-hub starts on it and delivers what cyclone's publishers send",
      async () => {
        await using hub = await spawnHub([...amqpArgs, "--amqp-exchange-durable", "false"]);
        await using sse = await subscribeTo(hub, "news");
        await publishAsCyclone(rabbit.url, "news", '["comment", "123"]');
        assertEquals((await sse.nextEvent(15_000)).data, '["comment", "123"]');
      },
    );

    await t.step(
      "without it, sse-hub exits naming the mismatch and the option to change",
      async () => {
        const { code, stderr } = await runMain(["--port", "0", ...amqpArgs]);
        assertEquals(code, 1, stderr);
        assert(
          stderr.includes(
            `RabbitMQ refused exchange "${EXCHANGE}": it exists with durable=false; start with --amqp-exchange-durable false`,
          ),
          stderr,
        );
        assert(!stderr.includes("check --amqp-url"), stderr);
      },
    );
  },
});
