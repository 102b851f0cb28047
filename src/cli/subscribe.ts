/**
 * `sse-hub subscribe URL [--channels a,b] [--last-event-id ID] [--json]`:
 * prints the events of any SSE server, one block (or one JSON line) per
 * event. It reconnects like a browser: after the server's `retry:` delay when
 * the stream ends, with growing backoff while connecting fails, always
 * sending the last event id it saw. HTTP 204 stops it (the spec's "stop
 * reconnecting"); another 4xx exits with the server's reason; Ctrl-C exits 0.
 *
 * @module
 */

import { ServerSentEventParseStream } from "@std/http/server-sent-event-parse-stream";
import { parseCommand, parseUrl } from "./args.ts";
import { missingPermission } from "./permissions.ts";

/** Usage of `sse-hub subscribe`. */
export const SUBSCRIBE_USAGE =
  `Usage: sse-hub subscribe URL [--channels a,b] [--last-event-id ID] [--json]

Prints the events of the SSE stream at URL until interrupted, reconnecting
with the last event id. --channels adds ?channels=a,b (sse-hub's parameter).`;

const MAX_BACKOFF_MS = 30_000;

interface Message {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/** Formats one event for the terminal. */
export function formatEvent(message: Message, lastEventId: string, json: boolean): string {
  const event = message.event ?? "message";
  if (json) return JSON.stringify({ id: lastEventId || null, event, data: message.data });
  const lines = [];
  if (lastEventId) lines.push(`id: ${lastEventId}`);
  if (event !== "message") lines.push(`event: ${event}`);
  for (const line of (message.data ?? "").split("\n")) lines.push(`data: ${line}`);
  return lines.join("\n") + "\n";
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** Runs `sse-hub subscribe`; returns the exit code. */
export async function subscribe(
  args: readonly string[],
  options: { signal?: AbortSignal; print?: (line: string) => void } = {},
): Promise<number> {
  const { flags, positional } = parseCommand(args, {
    string: ["channels", "last-event-id"],
    boolean: ["json"],
    collect: ["channels"],
  });
  if (flags.help) {
    console.log(SUBSCRIBE_USAGE);
    return 0;
  }
  const url = parseUrl(positional[0], "URL");
  const channels = (flags.channels as string[]).join(",");
  if (channels) url.searchParams.set("channels", channels);
  const print = options.print ?? ((line: string) => console.log(line));
  const json = flags.json === true;

  const controller = new AbortController();
  options.signal?.addEventListener("abort", () => controller.abort(), { once: true });
  const interrupt = () => controller.abort();
  const listening = !options.signal;
  if (listening) Deno.addSignalListener("SIGINT", interrupt);
  const { signal } = controller;

  let lastEventId = (flags["last-event-id"] as string | undefined) ?? "";
  let retry = 2000;
  let failures = 0;
  try {
    while (!signal.aborted) {
      try {
        const response = await fetch(url, {
          headers: {
            accept: "text/event-stream",
            ...(lastEventId ? { "last-event-id": lastEventId } : {}),
          },
          signal,
        });
        if (response.status === 204) {
          console.error("sse-hub subscribe: the server asked to stop (204)");
          return 0;
        }
        if (!response.ok) {
          const reason = (await response.text()).slice(0, 500);
          if (response.status < 500 && response.status !== 429) {
            console.error(
              `sse-hub subscribe: ${response.status} ${response.statusText}: ${reason}`,
            );
            return 1;
          }
          throw new Error(`${response.status} ${response.statusText}`);
        }
        if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
          await response.body?.cancel();
          console.error(`sse-hub subscribe: ${url.href} is not an event stream`);
          return 1;
        }
        failures = 0;
        const messages = response.body!.pipeThrough(new ServerSentEventParseStream());
        for await (const message of messages as AsyncIterable<Message>) {
          if (message.retry !== undefined) retry = message.retry;
          if (message.id !== undefined) lastEventId = message.id;
          if (message.data !== undefined) print(formatEvent(message, lastEventId, json));
        }
      } catch (error) {
        if (signal.aborted) break;
        if (missingPermission(error)) throw error;
        failures++;
        console.error(
          `sse-hub subscribe: ${(error as Error).message}; reconnecting${
            lastEventId ? ` from ${lastEventId}` : ""
          }`,
        );
      }
      const delay = failures === 0 ? retry : Math.min(retry * 2 ** (failures - 1), MAX_BACKOFF_MS);
      await sleep(delay, signal);
    }
    return 0;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", interrupt);
  }
}
