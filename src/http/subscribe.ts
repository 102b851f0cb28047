/**
 * `GET /?channels=a,b`: opens an SSE stream on one or more channels, replaying
 * what the client missed when it sends `Last-Event-ID` (header, or the
 * `lastEventId` / `last-event-id` query parameter for polyfills).
 *
 * @module
 */

import { parseChannelList } from "../channels.ts";
import type { Config } from "../config/options.ts";
import { encodePreamble } from "../encode.ts";
import { BadRequestError } from "../errors.ts";
import type { Hub } from "../hub.ts";
import { streamResponse } from "./stream_intent.ts";

/** Longest accepted Last-Event-ID. */
const MAX_ID_LENGTH = 256;

/** Headers of every SSE stream. */
export function streamHeaders(): Headers {
  return new Headers({
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
}

/** The channels a subscribe URL asks for, or the default channel; 400 when none. */
export function requestedChannels(url: URL, config: Config): string[] {
  const values = url.searchParams.getAll("channels");
  if (values.length > 0) return parseChannelList(values, config.maxChannels);
  if (config.defaultChannel !== "") return [config.defaultChannel];
  throw new BadRequestError(
    "no channels given; subscribe with ?channels=a,b (or start the server with --default-channel)",
  );
}

/** The client's Last-Event-ID from the header or query, if any. */
export function lastEventId(request: Request, url: URL): string | undefined {
  const id = request.headers.get("last-event-id") ??
    url.searchParams.get("lastEventId") ??
    url.searchParams.get("last-event-id");
  if (id === null || id === "") return undefined;
  // deno-lint-ignore no-control-regex
  if (id.length > MAX_ID_LENGTH || /[\u0000\r\n]/.test(id)) {
    throw new BadRequestError(
      `Last-Event-ID must be one line of at most ${MAX_ID_LENGTH} characters`,
    );
  }
  return id;
}

let connections = 0;

/** The subscribe route. */
export function subscribe(
  request: Request,
  url: URL,
  config: Config,
  hub: Hub,
): Response {
  const channels = requestedChannels(url, config);
  const lastId = lastEventId(request, url);
  return streamResponse({
    id: `c${++connections}`,
    channels,
    preamble: encodePreamble(config.retry, "sse-hub"),
    maxBuffered: config.maxBuffered,
    attach(subscriber) {
      hub.subscribe(subscriber, lastId);
    },
  }, streamHeaders());
}
