/**
 * Raw Redis payloads in tornado-sse's format (`--redis-format tornado`).
 *
 * tornado-sse reads every Redis message as the JSON array
 * `["<event>", <data>]`, where data is a string or a list of strings, and
 * sends it as `event: <event>` plus one `data:` line per line of data
 * (Python's `str.splitlines()`). django-sse's `send_event(name, data,
 * channel)` publishes exactly that array.
 *
 * @example
 * ```ts
 * import { parseTornadoPayload } from "./tornado_payload.ts";
 * parseTornadoPayload('["message", "a\\nb"]'); // { event: "message", data: "a\nb" }
 * parseTornadoPayload('["news", ["a", "b"]]'); // { event: "news", data: "a\nb" }
 * parseTornadoPayload("hello"); // undefined: not such an array
 * ```
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";

const log = getLogger(["sse-hub", "redis"]);

/** How raw messages on a Redis channel are read. */
export type RedisFormat = "raw" | "tornado";

/** The event a raw Redis message becomes. */
export interface RawPayload {
  /** Event type; absent for the browser's default `message`. */
  readonly event?: string;
  /** Payload text; line breaks become separate `data:` lines. */
  readonly data: string;
}

/** Python's `str.splitlines()` separators: CRLF first, then each single one. */
// deno-lint-ignore no-control-regex -- \v, \f and \x1c-\x1e are line breaks to Python
const PY_LINE_BREAK = /\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]/;
const SSE_LINE_BREAK = /[\r\n]/;
/** Channels warned about are remembered up to this many; later ones are not warned about. */
const MAX_WARNED = 1000;

/** `text.splitlines()` as Python does it: no trailing empty line, `""` has no lines. */
export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(PY_LINE_BREAK);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Reads a tornado-sse payload: a JSON array of exactly two elements, a
 * single-line event name and a string or list of strings. The data's lines
 * are joined with `\n`, so that each becomes one `data:` line. Anything else
 * is `undefined`.
 */
export function parseTornadoPayload(payload: string): RawPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [event, data] = value;
  if (typeof event !== "string" || SSE_LINE_BREAK.test(event)) return undefined;
  const parts = typeof data === "string" ? [data] : data;
  if (!Array.isArray(parts) || !parts.every((part) => typeof part === "string")) {
    return undefined;
  }
  return { event, data: parts.flatMap(splitLines).join("\n") };
}

/**
 * A function that turns a raw Redis message on an SSE channel into an event:
 * verbatim for `raw`; for `tornado`, through {@linkcode parseTornadoPayload},
 * delivering a payload that is not such an array verbatim and warning once
 * per channel.
 */
export function rawPayloadReader(
  format: RedisFormat,
): (channel: string, payload: string) => RawPayload {
  if (format === "raw") return (_channel, payload) => ({ data: payload });
  const warned = new Set<string>();
  return (channel, payload) => {
    const parsed = parseTornadoPayload(payload);
    if (parsed) return parsed;
    if (!warned.has(channel) && warned.size < MAX_WARNED) {
      warned.add(channel);
      log.warning(
        'a message on {channel} is not a ["event", data] array; delivered verbatim (--redis-format tornado; warned once per channel)',
        { channel },
      );
    }
    return { data: payload };
  };
}
