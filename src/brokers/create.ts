/**
 * Picks the broker the config asks for, loading its module only then: a
 * memory-only start never loads ioredis or amqplib.
 *
 * @module
 */

import type { Config } from "../config/options.ts";
import type { Broker } from "./broker.ts";
import { MemoryBroker } from "./memory.ts";
import { parseClusterSeeds } from "./redis_cluster_seeds.ts";

/** The broker for `config`. */
export async function createBroker(config: Config): Promise<Broker> {
  const history = {
    historySize: config.historySize,
    historyTtlMs: config.historyTtlMs,
    historyMaxBytes: config.historyMaxBytes,
  };
  switch (config.broker) {
    case "redis": {
      if (config.redisCluster !== "") {
        const { RedisClusterBroker } = await import("./redis_cluster.ts");
        return new RedisClusterBroker({
          seeds: parseClusterSeeds(config.redisCluster),
          prefix: config.redisPrefix,
          format: config.redisFormat,
          ...history,
        });
      }
      const { RedisBroker } = await import("./redis.ts");
      return new RedisBroker({
        url: config.redisUrl,
        prefix: config.redisPrefix,
        format: config.redisFormat,
        ...history,
      });
    }
    case "amqp": {
      const { AmqpBroker } = await import("./amqp.ts");
      return new AmqpBroker({
        url: config.amqpUrl,
        exchange: config.amqpExchange,
        exchangeType: config.amqpExchangeType,
        exchangeDurable: config.amqpExchangeDurable,
        ...history,
      });
    }
    case "memory":
      return new MemoryBroker(history);
  }
}
