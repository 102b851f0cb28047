/**
 * `sse-hub [serve] [options]`: read the config, start the server, stop on
 * SIGINT/SIGTERM.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import denoJson from "../../deno.json" with { type: "json" };
import { type Env, type IgnoredEnv, loadConfig } from "../config/load.ts";
import { usage } from "../config/usage.ts";
import { ConfigError } from "../errors.ts";
import { setupLogging } from "../log.ts";
import { missingPermission } from "./permissions.ts";

const log = getLogger(["sse-hub"]);

/** The line printed under a command-line mistake, instead of the whole usage. */
export const USAGE_HINT = "see sse-hub --help";

/** The version in deno.json. */
export const VERSION: string = denoJson.version;

/** One warning line for unknown `SSE_HUB_*` variables, one per service link ignored. */
function warnIgnoredEnv(ignored: IgnoredEnv): void {
  if (ignored.unknown.length > 0) {
    log.warning(
      "ignoring unknown environment variables {names}: sse-hub reads SSE_HUB_<OPTION> (see --help)",
      { names: ignored.unknown.join(", ") },
    );
  }
  for (const link of ignored.serviceLinks) {
    log.warning(
      "ignoring {name}={value}: a Kubernetes service link, not a value for {flag}",
      { ...link },
    );
  }
}

/** Runs the server until a signal stops it; returns the exit code. */
export async function serve(
  args: readonly string[],
  env: Env | (() => Env),
): Promise<number> {
  let command;
  try {
    command = loadConfig({ args, env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`sse-hub: ${error.message}\n${USAGE_HINT}`);
    return 2;
  }
  if (command.kind === "help") {
    console.log(usage());
    return 0;
  }
  if (command.kind === "version") {
    console.log(`sse-hub ${VERSION}`);
    return 0;
  }
  const config = command.config;
  setupLogging(config);
  warnIgnoredEnv(command.ignoredEnv);

  let server;
  try {
    // Imported here, not above: the brokers' dependencies read the
    // environment as they load, which --help and --version must not need.
    const { startServer } = await import("../server.ts");
    server = await startServer(config);
  } catch (error) {
    if (missingPermission(error)) throw error;
    log.fatal("cannot start on {listen}:{port}: {error}", {
      listen: config.listen,
      port: config.port,
      error: error instanceof Error ? error.message : error,
    });
    return 1;
  }
  log.info("sse-hub {version} listening on {url} (broker {broker}, transport {transport})", {
    version: VERSION,
    url: server.url.href,
    broker: server.hub.broker.kind,
    transport: server.transport,
  });

  const stop = (signal: Deno.Signal) => {
    if (signal === "SIGTERM" && !server.hub.draining) {
      log.info("SIGTERM: draining {n} streams over {seconds} s, then stopping", {
        n: server.hub.subscriberCount,
        seconds: config.drainMs / 1000,
      });
      server.drain();
      return;
    }
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
