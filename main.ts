/**
 * sse-hub's command line: read the config, start the server, stop on
 * SIGINT/SIGTERM. Only wiring lives here.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import denoJson from "./deno.json" with { type: "json" };
import { loadConfig } from "./src/config/load.ts";
import { usage } from "./src/config/usage.ts";
import { ConfigError } from "./src/errors.ts";
import { setupLogging } from "./src/log.ts";
import { startServer } from "./src/server.ts";

const log = getLogger(["sse-hub"]);

async function main(): Promise<number> {
  let command;
  try {
    command = loadConfig({ args: Deno.args, env: Deno.env.toObject() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`sse-hub: ${error.message}\n\n${usage()}`);
    return 2;
  }
  if (command.kind === "help") {
    console.log(usage());
    return 0;
  }
  if (command.kind === "version") {
    console.log(`sse-hub ${denoJson.version}`);
    return 0;
  }
  const config = command.config;
  setupLogging(config);

  let server;
  try {
    server = await startServer(config);
  } catch (error) {
    log.fatal("cannot start on {listen}:{port}: {error}", {
      listen: config.listen,
      port: config.port,
      error,
    });
    return 1;
  }
  log.info("sse-hub {version} listening on {url} (broker {broker})", {
    version: denoJson.version,
    url: server.url.href,
    broker: server.hub.broker.kind,
  });

  const stop = (signal: Deno.Signal) => {
    log.info("{signal}: closing {n} streams and stopping", {
      signal,
      n: server.hub.subscriberCount,
    });
    server.shutdown();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop(signal));
  }
  await server.finished;
  log.info("stopped");
  return 0;
}

Deno.exit(await main());
