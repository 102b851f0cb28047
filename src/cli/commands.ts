/**
 * The subcommands of the `sse-hub` executable.
 *
 * @module
 */

import { UsageError } from "./args.ts";
import { publish } from "./publish.ts";
import { serve } from "./serve.ts";
import { subscribe } from "./subscribe.ts";

/** Runs the command line; returns the process exit code. */
export async function run(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
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
    if (!(error instanceof UsageError)) throw error;
    console.error(`sse-hub ${command}: ${error.message}\nsee sse-hub ${command} --help`);
    return 2;
  }
}
