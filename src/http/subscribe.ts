/**
 * `GET /?channels=a,b`: opens an SSE stream on one or more channels, replaying
 * what the client missed when it sends `Last-Event-ID` (header, or the
 * `lastEventId` / `last-event-id` query parameter for polyfills).
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { CLIENT_PREFIX, isClientChannel, parseChannelList } from "../channels.ts";
import type { Config } from "../config/options.ts";
import { encodeEvent, encodePreamble } from "../encode.ts";
import { BadRequestError, ServiceUnavailableError, TooManyRequestsError } from "./errors.ts";
import type { Hub } from "../hub.ts";
import type { RouteContext } from "./context.ts";
import { streamResponse } from "./stream_intent.ts";

/** Event type of the first event, which tells a connection its client token. */
export const CLIENT_EVENT = "sse-hub.client";
const CLIENT_TOKEN = /^[A-Za-z0-9._~-]{1,64}$/;

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

/** Throws 503 while the server drains, so clients reconnect to another instance. */
export function refuseWhileDraining(hub: Hub): void {
  if (hub.draining) {
    throw new ServiceUnavailableError(
      "this server is shutting down; reconnect (to another instance)",
      2,
    );
  }
}

/** Throws 503 at --max-connections and 429 at --max-connections-per-ip for `remote`. */
export function checkConnectionLimits(hub: Hub, config: Config, remote: string): void {
  if (config.maxConnections > 0 && hub.subscriberCount >= config.maxConnections) {
    throw new ServiceUnavailableError(
      `this server holds its maximum of ${config.maxConnections} streams (--max-connections); retry later`,
      5,
    );
  }
  if (config.maxConnectionsPerIp > 0 && hub.connectionsFrom(remote) >= config.maxConnectionsPerIp) {
    throw new TooManyRequestsError(
      `${remote} already has ${config.maxConnectionsPerIp} open streams (--max-connections-per-ip); close one first`,
      5,
    );
  }
}

/** The channels a subscribe URL asks for, or the default channel; 400 when none. */
export function requestedChannels(url: URL, config: Config): string[] {
  const values = url.searchParams.getAll("channels");
  if (values.length > 0) {
    const channels = parseChannelList(values, config.maxChannels);
    const reserved = channels.find(isClientChannel);
    if (reserved) {
      throw new BadRequestError(
        `channel ${
          JSON.stringify(reserved)
        } is reserved: "${CLIENT_PREFIX}…" channels reach one connection; use ?client=TOKEN for your own`,
      );
    }
    return channels;
  }
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

/** The client token from `?client=` (validated), or a new one. */
export function clientToken(url: URL): string {
  const token = url.searchParams.get("client");
  if (token === null) return crypto.randomUUID();
  if (!CLIENT_TOKEN.test(token)) {
    throw new BadRequestError(
      `client token ${
        JSON.stringify(token.slice(0, 80))
      } is invalid: use 1 to 64 letters, digits or . _ ~ -`,
    );
  }
  return token;
}

let connections = 0;

/** The subscribe route; a client told to stop for good gets 204. */
export async function subscribe(
  { request, url, config, hub, remote, auth }: RouteContext,
): Promise<Response> {
  refuseWhileDraining(hub);
  checkConnectionLimits(hub, config, remote);
  const channels = requestedChannels(url, config);
  await auth?.authorize(request, url, channels);
  const lastId = lastEventId(request, url);
  const given = url.searchParams.has("client");
  const client = clientToken(url);
  if (given && await hub.isStopped(client)) return new Response(null, { status: 204 });
  const preamble = encodePreamble(config.retry, "sse-hub");
  const hello = encodeEvent({ event: CLIENT_EVENT, data: JSON.stringify({ client }) });
  const first = concat([preamble, hello]);
  return streamResponse({
    id: `c${++connections}`,
    channels: [...channels, CLIENT_PREFIX + client],
    remote,
    preamble: first,
    maxBuffered: config.maxBuffered,
    attach(subscriber) {
      // A token made for this connection has no past to replay.
      hub.subscribe(subscriber, lastId, given ? subscriber.channels : channels);
    },
  }, streamHeaders());
}
