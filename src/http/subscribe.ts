/**
 * `GET /?channels=a,b`: opens an SSE stream on one or more channels, replaying
 * what the client missed when it sends `Last-Event-ID` (header, or the
 * `lastEventId` / `last-event-id` query parameter for polyfills).
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { CLIENT_PREFIX, isClientChannel, parseChannelList } from "../channels.ts";
import { ClientTokens } from "../client_tokens.ts";
import type { Config } from "../config/options.ts";
import { encodeEvent, encodePreamble } from "../encode.ts";
import { BadRequestError, ServiceUnavailableError, TooManyRequestsError } from "./errors.ts";
import type { Hub } from "../hub.ts";
import type { RouteContext } from "./context.ts";
import { streamResponse } from "./stream_intent.ts";

/** Event type of the first event, which tells a connection its client token. */
export const CLIENT_EVENT = "sse-hub.client";

/**
 * Longest accepted Last-Event-ID: a Redis Cluster cursor names every channel
 * of the connection with its position (src/cursor.ts).
 */
const MAX_ID_LENGTH = 8192;

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

/** The client token a subscribe URL asks for, and whether it was just made. */
export interface AskedToken {
  readonly token: string;
  /** Made for this connection (`?client=new`): it has no past. */
  readonly fresh: boolean;
}

/**
 * The connection's client token: none without `?client=`, a new signed one
 * for `?client=new`, or the one given back, if sse-hub made it; 400 if not.
 */
export function clientToken(url: URL, tokens: ClientTokens): AskedToken | undefined {
  const asked = url.searchParams.get("client");
  if (asked === null) return undefined;
  if (asked === "new") return { token: tokens.issue(), fresh: true };
  if (!ClientTokens.wellFormed(asked)) {
    throw new BadRequestError(
      `client token ${
        JSON.stringify(asked.slice(0, 80))
      } is invalid: use ?client=new for a new one, or give back the one you were told`,
    );
  }
  if (!tokens.accepts(asked)) {
    throw new BadRequestError(
      `client token ${
        JSON.stringify(asked)
      } was not issued by this server (or its --client-token-secret changed): ask for one with ?client=new`,
    );
  }
  return { token: asked, fresh: false };
}

let connections = 0;

/** The subscribe route; a client told to stop for good gets 204. */
export async function subscribe(
  { request, url, config, hub, remote, auth, tokens }: RouteContext,
): Promise<Response> {
  refuseWhileDraining(hub);
  checkConnectionLimits(hub, config, remote);
  const channels = requestedChannels(url, config);
  hub.checkChannels(channels);
  await auth?.authorize(request, url, channels);
  const lastId = lastEventId(request, url);
  const client = clientToken(url, tokens);
  if (client && !client.fresh && await hub.control.isStopped(client.token)) {
    return new Response(null, { status: 204 });
  }
  const preamble = encodePreamble(config.retryMs, "sse-hub");
  // Only a connection that asked for a token hears of it: a stream carries
  // retry:, comments and its channels' events, nothing else.
  const first = client
    ? concat([
      preamble,
      encodeEvent({ event: CLIENT_EVENT, data: JSON.stringify({ client: client.token }) }),
    ])
    : preamble;
  return streamResponse({
    id: `c${++connections}`,
    channels: client ? [...channels, CLIENT_PREFIX + client.token] : channels,
    remote,
    preamble: first,
    maxBuffered: config.maxBuffered,
    attach(subscriber) {
      // A token made for this connection has no past to replay.
      hub.subscribe(subscriber, lastId, client?.fresh ? channels : subscriber.channels);
    },
  }, streamHeaders());
}
