/**
 * The `--help` text, generated from the option table so it never drifts.
 *
 * @module
 */

import { flagName, OPTIONS } from "./options.ts";
import type { Option } from "./spec.ts";

function showDefault(key: string, o: Option<unknown>): string {
  const value = o.default;
  // A switch that is off unless given needs no "(default false)".
  if (value === "" || value === false || (Array.isArray(value) && value.length === 0)) return "";
  if (o.format) return ` (default ${o.format(value)})`;
  if (Array.isArray(value)) return ` (default ${value.join(",")})`;
  if (key === "config") return "";
  return ` (default ${value})`;
}

/** The subcommands of the executable. */
const COMMANDS = `Commands:
  serve      run the server (the default; options below)
  subscribe  print the events of an SSE stream (sse-hub subscribe --help)
  publish    publish a message to an sse-hub (sse-hub publish --help)
`;

/** Where the help text starts; longer option names get a line of their own. */
const COLUMN = 28;

/** Usage text for `sse-hub --help`. */
export function usage(): string {
  const rows = Object.entries(OPTIONS).map(
    ([key, o]: [string, Option<unknown>]) => {
      const names = [flagName(key), ...(o.aliases ?? [])].map((n) => `--${n}`)
        .join(", ");
      const left = o.valueName ? `${names} ${o.valueName}` : names;
      return [left, o.help + showDefault(key, o)] as const;
    },
  );
  rows.push(["-h, --help", "show this help"]);
  rows.push(["-V, --version", "print the version"]);
  const lines = rows.map(([left, help]) =>
    left.length < COLUMN - 2
      ? `  ${left.padEnd(COLUMN)}${help}`
      : `  ${left}\n  ${"".padEnd(COLUMN)}${help}`
  );
  return [
    "sse-hub: a Server-Sent Events broadcast server",
    "",
    "Usage: sse-hub [serve] [options]",
    "       sse-hub subscribe URL [--channels a,b] [--last-event-id ID] [--json]",
    "       sse-hub publish URL --channel NAME [--event TYPE] [--key KEY] [DATA | -]",
    "",
    COMMANDS,
    "Options (also SSE_HUB_<NAME> environment variables and --config file keys;",
    "precedence: flags > environment > file > defaults):",
    ...lines,
    "",
  ].join("\n");
}
