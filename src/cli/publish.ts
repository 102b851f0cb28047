/**
 * `sse-hub publish URL --channel a [--channel b] [--event E] [--key K] [DATA | -]`:
 * publishes one message to an sse-hub server (`URL` is the server, or its
 * `/publish` endpoint). `-` reads the data from standard input. A 4xx/5xx
 * answer is printed with the server's reason and exits with code 1.
 *
 * @module
 */

import type { Env } from "../config/load.ts";
import { parseCommand, parseUrl, UsageError } from "./args.ts";
import { missingPermission } from "./permissions.ts";

/** Usage of `sse-hub publish`. */
export const PUBLISH_USAGE =
  `Usage: sse-hub publish URL --channel NAME [--channel NAME…] [--event TYPE]
                       [--key KEY] [DATA | -]

Publishes DATA (or standard input with -) to the channels of the sse-hub at URL.
The key may also come from SSE_HUB_PUBLISH_KEY.`;

/** The publish endpoint for a server URL. */
export function publishEndpoint(url: URL): URL {
  if (url.pathname.endsWith("/publish")) return url;
  const base = new URL(url);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return new URL("publish", base);
}

/**
 * Drops ONE trailing line break (`\n` or `\r\n`) from standard input, the one
 * `echo` and editors add; otherwise every event would end in an empty `data:` line.
 */
export function stripFinalNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** Runs `sse-hub publish`; returns the exit code. */
export async function publish(
  args: readonly string[],
  env: Env | (() => Env),
  stdin: ReadableStream<Uint8Array> = Deno.stdin.readable,
): Promise<number> {
  const { flags, positional } = parseCommand(args, {
    string: ["channel", "event", "key"],
    collect: ["channel"],
  });
  if (flags.help) {
    console.log(PUBLISH_USAGE);
    return 0;
  }
  const url = publishEndpoint(parseUrl(positional[0], "URL"));
  const channels = (flags.channel as string[]).flatMap((c) => c.split(",")).map((c) => c.trim())
    .filter(Boolean);
  if (channels.length === 0) throw new UsageError("give at least one --channel");
  if (positional.length > 2) {
    throw new UsageError(`one DATA argument expected, got ${positional.length - 1}; quote it`);
  }
  const given = positional[1];
  if (given === undefined) throw new UsageError("missing DATA (use - to read standard input)");
  const data = given === "-" ? stripFinalNewline(await new Response(stdin).text()) : given;
  const key = (flags.key as string | undefined) ??
    (typeof env === "function" ? env() : env).SSE_HUB_PUBLISH_KEY;
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(key ? { "x-publish-key": key } : {}),
      },
      body: JSON.stringify({ channel: channels, data, event: flags.event }),
    });
  } catch (error) {
    if (missingPermission(error)) throw error;
    console.error(`sse-hub publish: cannot reach ${url.href}: ${(error as Error).message}`);
    return 1;
  }
  const text = await response.text();
  if (!response.ok) {
    let reason = text;
    try {
      reason = JSON.parse(text).error ?? text;
    } catch {
      // not JSON: print it as it is
    }
    console.error(`sse-hub publish: ${response.status} ${response.statusText}: ${reason}`);
    return 1;
  }
  console.log(text);
  return 0;
}
