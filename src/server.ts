/**
 * Runs an sse-hub app (`app.ts`) on a transport: listening, Graphite export,
 * graceful drain and shutdown.
 *
 * @example
 * ```ts ignore
 * import { startServer } from "./server.ts";
 * import { defaultConfig } from "./config/options.ts";
 * const server = await startServer({ ...defaultConfig(), port: 0 });
 * console.log(server.url.href);
 * await server.shutdown();
 * ```
 *
 * @module
 */

import { type AppOptions, createApp } from "./app.ts";
import type { Config } from "./config/options.ts";
import { ConfigError } from "./errors.ts";
import { startGraphiteExport } from "./graphite.ts";
import type { Hub } from "./hub.ts";
import { listenNode } from "./transport/node.ts";
import { type Listener, listenServe } from "./transport/serve.ts";

/** How long shutdown waits for connections to end before giving up on them. */
const SHUTDOWN_GRACE_MS = 3000;

/**
 * The transport `auto` stands for: node:http (about 11 KB per idle stream)
 * for plain HTTP/1.1, Deno.serve (HTTP/2 by ALPN, but about 57 KB per
 * stream: docs/benchmarks.md) when TLS is configured.
 */
export function resolveTransport(config: Config): "serve" | "node" {
  if (config.transport !== "auto") return config.transport;
  return config.cert ? "serve" : "node";
}

/** A started server. */
export interface RunningServer {
  /** The transport serving it (`auto` resolved). */
  readonly transport: "serve" | "node";
  /** Where subscribers connect (`http://host:port/path`). */
  readonly url: URL;
  /** The hub, for embedding and tests. */
  readonly hub: Hub;
  /** Resolves once the server has stopped. */
  readonly finished: Promise<void>;
  /** Stops accepting, closes every stream, disconnects the broker. Idempotent. */
  shutdown(): Promise<void>;
  /**
   * Graceful stop: healthz turns 503 and new subscribers are refused while
   * the streams are closed over `--drain-seconds`; then {@linkcode shutdown}.
   */
  drain(): Promise<void>;
}

/** The PEM certificate and key from --cert/--key, if given; a clear error if unreadable. */
function readTls(config: Config): { cert: string; key: string } | undefined {
  if (!config.cert) return undefined;
  const read = (path: string, flag: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new ConfigError(`cannot read ${flag} ${path}: ${(error as Error).message}`);
    }
  };
  return { cert: read(config.cert, "--cert"), key: read(config.key, "--key") };
}

/** Starts sse-hub as configured. */
export async function startServer(
  config: Config,
  options: AppOptions = {},
): Promise<RunningServer> {
  const transport = resolveTransport(config);
  const app = await createApp(config, options);
  const { hub } = app;
  let listener: Listener;
  try {
    const address = { hostname: config.listen, port: config.port };
    listener = transport === "node"
      ? await listenNode(app.handler, {
        ...address,
        timeouts: {
          headerMs: config.headerTimeoutMs,
          bodyMs: config.bodyTimeoutMs,
          keepAliveMs: config.keepaliveTimeoutMs,
        },
      })
      : listenServe(app.handler, { ...address, tls: readTls(config) });
  } catch (error) {
    await app.close();
    throw error;
  }
  const scheme = config.cert ? "https" : "http";
  const host = listener.addr.hostname.includes(":")
    ? `[${listener.addr.hostname}]`
    : listener.addr.hostname;
  const exporter = config.export === "graphite"
    ? startGraphiteExport(hub, {
      host: config.exportHost,
      port: config.exportPort,
      protocol: config.exportProtocol,
      intervalMs: config.exportIntervalMs,
      prefix: config.exportPath,
    })
    : undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = () =>
    stopping ??= (async () => {
      exporter?.stop();
      const stopped = listener.shutdown();
      hub.close();
      let timer;
      await Promise.race([
        stopped,
        new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)),
      ]);
      clearTimeout(timer);
      await app.close();
    })();
  return {
    url: new URL(`${scheme}://${host}:${listener.addr.port}${config.path}`),
    transport,
    hub,
    finished: listener.finished,
    shutdown,
    async drain() {
      await hub.drain(config.drainMs);
      await shutdown();
    },
  };
}
