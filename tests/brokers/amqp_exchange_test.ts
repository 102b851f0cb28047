import { assertEquals } from "@std/assert";
import { describeMismatch } from "../../src/brokers/amqp_exchange.ts";

const refusal = (arg: string, received: string, current: string) =>
  `Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - inequivalent arg '${arg}' for exchange 'x' in vhost '/': received '${received}' but current is '${current}'"`;

Deno.test("a refused exchange type names the type it has and --amqp-exchange-type", () => {
  assertEquals(
    describeMismatch("x", refusal("type", "direct", "topic")),
    'RabbitMQ refused exchange "x": it exists with type=topic; start with --amqp-exchange-type topic',
  );
});

Deno.test("a refused exchange argument sse-hub has no option for says to delete it or pick another", () => {
  assertEquals(
    describeMismatch("x", refusal("auto_delete", "false", "true")),
    `RabbitMQ refused exchange "x": it exists with other settings (${
      refusal("auto_delete", "false", "true")
    }); delete it in RabbitMQ or use another --amqp-exchange`,
  );
});
