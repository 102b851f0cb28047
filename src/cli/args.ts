/**
 * Small helpers shared by the client subcommands.
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";

/** A command-line mistake: the message is printed with a `--help` hint, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Parsed flags and positional arguments; unknown flags are a {@linkcode UsageError}. */
export function parseCommand(
  args: readonly string[],
  spec: { string?: string[]; boolean?: string[]; collect?: string[] },
): { flags: Record<string, unknown>; positional: string[] } {
  const parsed = parseArgs([...args], {
    ...spec,
    boolean: [...(spec.boolean ?? []), "help"],
    alias: { h: "help" },
    unknown(arg: string) {
      if (arg.startsWith("-") && arg !== "-") {
        throw new UsageError(`unknown option ${arg.split("=")[0]}`);
      }
      return true;
    },
  });
  return { flags: parsed, positional: parsed._.map(String) };
}

/** Parses a URL argument or throws a {@linkcode UsageError} naming it. */
export function parseUrl(value: string | undefined, what: string): URL {
  if (!value) throw new UsageError(`missing ${what}`);
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return url;
  } catch {
    // reported below
  }
  throw new UsageError(`${what} must be an http:// or https:// URL, not ${JSON.stringify(value)}`);
}
