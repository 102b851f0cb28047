/**
 * Logging through LogTape: one line per record on stderr, as text or JSON
 * lines. Modules log with `getLogger(["sse-hub", "<room>"])`; nothing is
 * written until {@linkcode setupLogging} runs, so embedding apps and tests stay
 * quiet unless they ask.
 *
 * @module
 */

import { configureSync, getTextFormatter, type LogLevel, type LogRecord } from "@logtape/logtape";

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

/** A value as it reads in a message: text bare, lists comma-separated, errors by message. */
function bare(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (Array.isArray(value)) return value.map(bare).join(",");
  if (typeof value === "object" && value !== null) return JSON.stringify(value, jsonValue);
  return String(value);
}

/** JSON.stringify replacer for what JSON cannot hold as it is. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * One JSON line per record, with LogTape's fields (`@timestamp`, `level`,
 * `message`, `logger`, `properties`). Unlike LogTape's own JSON formatter the
 * message is plain text, its values written bare (`listening on http://…`,
 * not `listening on "http://…"`): the typed values are in `properties`.
 */
export function jsonLine(record: LogRecord): string {
  const message = record.message.map((part, i) => i % 2 === 0 ? part : bare(part)).join("");
  return JSON.stringify({
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level === "warning" ? "WARN" : record.level.toUpperCase(),
    message,
    logger: record.category.join("."),
    properties: record.properties,
  }, jsonValue) + "\n";
}

/** Sends sse-hub's log records to stderr at the configured level and format. */
export function setupLogging(options: LogOptions): void {
  const format = options.logFormat === "json"
    ? jsonLine
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
