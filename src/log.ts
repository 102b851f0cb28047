/**
 * Logging through LogTape: one line per record on stderr, as text or JSON
 * lines. Modules log with `getLogger(["sse-hub", "<room>"])`; nothing is
 * written until {@linkcode setupLogging} runs, so embedding apps and tests stay
 * quiet unless they ask.
 *
 * @module
 */

import {
  configureSync,
  getTextFormatter,
  jsonLinesFormatter,
  type LogLevel,
  type LogRecord,
} from "@logtape/logtape";

/** Log settings, straight from the config. */
export interface LogOptions {
  readonly logLevel: LogLevel;
  readonly logFormat: "text" | "json";
}

const encoder = new TextEncoder();

function writeAll(bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stderr.writeSync(bytes.subarray(written));
  }
}

/** Sends sse-hub's log records to stderr at the configured level and format. */
export function setupLogging(options: LogOptions): void {
  const format = options.logFormat === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ value: "bare", timestamp: "rfc3339" });
  configureSync({
    reset: true,
    sinks: {
      stderr: (record: LogRecord) => writeAll(encoder.encode(format(record))),
    },
    loggers: [
      {
        category: ["sse-hub"],
        lowestLevel: options.logLevel,
        sinks: ["stderr"],
      },
      {
        category: ["logtape", "meta"],
        lowestLevel: "warning",
        sinks: ["stderr"],
      },
    ],
  });
}
