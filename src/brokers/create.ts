/**
 * Picks the broker the config asks for.
 *
 * @module
 */

import type { Config } from "../config/options.ts";
import type { Broker } from "./broker.ts";
import { AmqpBroker } from "./amqp.ts";
import { MemoryBroker } from "./memory.ts";
import { RedisBroker } from "./redis.ts";

/** The broker for `config`. */
export function createBroker(config: Config): Broker {
  const history = { historySize: config.historySize, historyTtlMs: config.historyTtl };
  switch (config.broker) {
    case "redis":
      return new RedisBroker({ url: config.redisUrl, prefix: config.redisPrefix, ...history });
    case "amqp":
      return new AmqpBroker({
        url: config.amqpUrl,
        exchange: config.amqpExchange,
        exchangeType: config.amqpExchangeType,
        ...history,
      });
    case "memory":
      return new MemoryBroker(history);
  }
}
