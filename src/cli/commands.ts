/**
 * The subcommands of the `sse-hub` executable.
 *
 * @module
 */

import type { Env } from "../config/load.ts";
import { UsageError } from "./args.ts";
import { missingPermission, permissionMessage } from "./permissions.ts";
import { publish } from "./publish.ts";
import { serve } from "./serve.ts";
import { subscribe } from "./subscribe.ts";

/**
 * Runs the command line; returns the process exit code. `env` may be a
 * function, called only when a command needs the environment (not for
 * `--help` or `--version`). A missing permission is one line naming the
 * `--allow-*` flag to add, exit code 1.
 */
export async function run(
  args: readonly string[],
  env: Env | (() => Env),
): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "subscribe":
        return await subscribe(rest);
      case "publish":
        return await publish(rest, env);
      case "serve":
        return await serve(rest, env);
      default:
        return await serve(args, env);
    }
  } catch (error) {
    const flag = missingPermission(error);
    if (flag) {
      const who = command === "subscribe" || command === "publish"
        ? `sse-hub ${command}`
        : "sse-hub";
      console.error(`${who}: ${permissionMessage(flag)}`);
      return 1;
    }
    if (!(error instanceof UsageError)) throw error;
    console.error(`sse-hub ${command}: ${error.message}\nsee sse-hub ${command} --help`);
    return 2;
  }
}
