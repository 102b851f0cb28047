/**
 * Picks the broker the config asks for.
 *
 * @module
 */

import type { Config } from "../config/options.ts";
import type { Broker } from "./broker.ts";
import { MemoryBroker } from "./memory.ts";

/** The broker for `config`. */
export function createBroker(config: Config): Broker {
  return new MemoryBroker({
    historySize: config.historySize,
    historyTtlMs: config.historyTtl,
  });
}
