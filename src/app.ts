/**
 * The composition root: the one place that builds a running sse-hub from a
 * {@linkcode Config} — broker, hub, route services and handler. The server
 * (`server.ts`), the embeddable handler (`library/handler.ts`) and the tests
 * all build through it, so an option reaches the same place whichever way
 * sse-hub is started.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * import { defaultConfig } from "./config/options.ts";
 * const app = await createApp({ ...defaultConfig(), heartbeatMs: 0 });
 * const response = await app.handler(new Request("http://localhost/stats"), {
 *   remoteAddr: { hostname: "127.0.0.1", port: 0 },
 * });
 * response.status; // 200
 * await app.close();
 * ```
 *
 * @module
 */

import type { Broker } from "./brokers/broker.ts";
import { createBroker } from "./brokers/create.ts";
import type { Config } from "./config/options.ts";
import { createRouter, createServices, type Handler } from "./http/handler.ts";
import { Hub } from "./hub.ts";

/** A started hub with its broker and request handler. */
export interface App {
  readonly config: Config;
  readonly broker: Broker;
  readonly hub: Hub;
  /** Every route, transport-independent. */
  readonly handler: Handler;
  /** Closes every stream and disconnects the broker. */
  close(): Promise<void>;
}

/** Options for {@linkcode createApp}. */
export interface AppOptions {
  /** Use this broker instead of the one the config names (tests, embedding). */
  readonly broker?: Broker;
}

/** Builds and starts broker and hub for `config`, and the handler over them. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const broker = options.broker ?? await createBroker(config);
  const hub = new Hub({
    broker,
    heartbeatMs: config.heartbeatMs,
    maxLifetimeMs: config.maxLifetimeMs,
    retryMs: config.retryMs,
    stopTtlMs: config.stopTtlMs,
  });
  await hub.start();
  const handler = createRouter(createServices(config, hub));
  return {
    config,
    broker,
    hub,
    handler,
    async close() {
      hub.close();
      await broker.close();
    },
  };
}
