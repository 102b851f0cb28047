/**
 * The eventsource library's own routes (guyzmo/event-source-library), served
 * with `--eventsource-routes` so that its clients work unchanged:
 *
 * - `GET /poll/<token>` opens the token's stream; a second listener gets 423.
 * - `POST /ping/<token>` with a raw body delivers `event: ping`, one `data:`
 *   line per body line; `POST /close/<token>` ends the token's stream. A token
 *   with no listener gets 404 "Target is not connected".
 *
 * A token's stream is an ordinary hub subscriber on `client:<token>`, the
 * channel every `?client=<token>` connection also listens to, so a ping is a
 * publish that reaches the token through the broker and a close is the same
 * control command as `POST /disconnect {"client": token}`. Where the wire
 * differs from the library, docs/migrating.md says why.
 *
 * @module
 */

import { checkPublishKey, offeredKey } from "./auth.ts";
import { CLIENT_PREFIX, MAX_CHANNEL_LENGTH, validateChannel } from "../channels.ts";
import { encodeComment } from "../encode.ts";
import { ProtocolError } from "../errors.ts";
import type { Route, RouteContext } from "./context.ts";
import { BadRequestError } from "./errors.ts";
import { decodeUtf8, readBytes } from "./body.ts";
import { enforceRate } from "./publish.ts";
import { streamResponse } from "./stream_intent.ts";
import { checkConnectionLimits, refuseWhileDraining, streamHeaders } from "./subscribe.ts";

/** The action of `GET /<action>/<token>` that opens a stream. */
export const LISTEN = "poll";
/** The event type of a `ping` action, as the library writes it. */
export const PING_EVENT = "ping";

/**
 * First bytes of a token's stream: a comment only. The library writes nothing
 * before the first event, and its client would take a `retry:` line as its new
 * reconnection delay, so unlike other streams there is no `retry:` here.
 */
const PREAMBLE = encodeComment("sse-hub");

/** What the library answers a successful POST with, in an `Accept` header (sic). */
const STRING_EVENT_TYPE = "text/plain";

/** A path split as the library's `r"/(.*)/(.*)"` splits it: at the last "/". */
export interface ActionPath {
  readonly action: string;
  readonly token: string;
}

/**
 * Splits `/<action>/<token>` at its last "/" (so a token holds no "/", and
 * `/poll/` names the empty token), percent-decoding the token; `undefined`
 * when the path has no second "/".
 */
export function splitActionPath(pathname: string): ActionPath | undefined {
  const last = pathname.lastIndexOf("/");
  if (last <= 0) return undefined;
  const raw = pathname.slice(last + 1);
  let token: string;
  try {
    token = decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(
      `token ${
        JSON.stringify(raw.slice(0, 80))
      } is not percent-encoded UTF-8; percent-encode the token's UTF-8 bytes`,
    );
  }
  return { action: pathname.slice(1, last), token };
}

/** Longest token: its channel `client:<token>` must be a valid channel name. */
export const MAX_TOKEN_LENGTH = MAX_CHANNEL_LENGTH - CLIENT_PREFIX.length;

/** The hub channel of `token`, or 400 naming the token when it cannot be one. */
export function tokenChannel(token: string): string {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new BadRequestError(
      `token ${JSON.stringify(token.slice(0, 40) + "…")} is ${token.length} characters long; ` +
        `the limit is ${MAX_TOKEN_LENGTH}`,
    );
  }
  try {
    return validateChannel(CLIENT_PREFIX + token);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    throw new BadRequestError(
      `token ${JSON.stringify(token.slice(0, 80))} cannot be used: ${error.message}`,
    );
  }
}

/**
 * The library's error page (`write_error` as of v1.1.0), answered as is
 * (not sse-hub's JSON) because `eventsource-request` prints what is between
 * `<body>` and `</body>`; counted as a rejected request like thrown errors.
 */
function errorPage(
  c: RouteContext,
  status: 404 | 423,
  message: string,
): Response {
  const title = status === 404 ? "Not Found" : "Locked";
  c.rejected.add(status);
  return new Response(
    `<html><title>${status}: ${title}</title><body>${status}: ${message}</body></html>\n`,
    { status, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

let connections = 0;

/**
 * `GET /poll/<token>`: the token's stream, or 423 when it already has one.
 * Last-Event-ID is ignored, as the library does: a token has no history.
 */
async function listen(c: RouteContext, token: string): Promise<Response> {
  const { hub, config, remote } = c;
  refuseWhileDraining(hub);
  checkConnectionLimits(hub, config, remote);
  const channel = tokenChannel(token);
  // A token told to stop by POST /disconnect {"stop": true} stays refused.
  if (await hub.control.isStopped(token)) return new Response(null, { status: 204 });
  // "Already connected" is what THIS instance holds: another instance's
  // listener on the same token is not seen (the library is one process).
  // Two polls whose requests overlap until their streams attach may both
  // be let in; each then gets every ping.
  if (await hub.settledSubscribers(channel) > 0) {
    return errorPage(c, 423, "Target is already connected");
  }
  return streamResponse({
    id: `e${++connections}`,
    channels: [channel],
    remote,
    preamble: PREAMBLE,
    maxBuffered: config.maxBuffered,
    attach(subscriber) {
      hub.subscribe(subscriber);
    },
  }, streamHeaders());
}

/**
 * Checks the publish key (from `X-Publish-Key` or `Authorization: Bearer`:
 * the body is the event's) and `--publish-rate`, as `POST /publish` does.
 */
function checkPublisher({ request, config, rate, remote }: RouteContext): void {
  const key = offeredKey(request, undefined);
  const byAddress = `ip:${remote}`;
  try {
    checkPublishKey(config.publishKey, key);
  } catch (error) {
    enforceRate(rate, byAddress, config.publishRate);
    throw error;
  }
  enforceRate(rate, config.publishKey === "" ? byAddress : `key:${key}`, config.publishRate);
}

/** The raw body as text: at most --max-message-size bytes of UTF-8. */
async function bodyText(c: RouteContext): Promise<string> {
  const bytes = await readBytes(c.request, {
    maxBytes: c.config.maxMessageSize,
    timeoutMs: c.config.bodyTimeoutMs,
  });
  return decodeUtf8(bytes, "event data");
}

/**
 * `POST /ping/<token>` and `POST /close/<token>`: 404 "Target is not
 * connected" unless the token has a stream here, else 200 with an empty body.
 */
async function act(c: RouteContext, action: string, token: string): Promise<Response> {
  checkPublisher(c);
  const channel = tokenChannel(token);
  // "Connected" means connected to THIS instance: the ping below would reach
  // the token on any instance through the broker, but only this instance's
  // listeners can be counted, so a token held elsewhere gets 404 here. A
  // stream whose broker subscription is still in flight (its client may
  // already have the headers) is waited for, not taken as absent.
  if (await c.hub.settledSubscribers(channel) === 0) {
    return errorPage(c, 404, "Target is not connected");
  }
  if (action === PING_EVENT) {
    // The body's lines become data: lines (encodeEvent splits them).
    await c.hub.publish({ channels: [channel], event: PING_EVENT, data: await bodyText(c) });
  } else {
    await c.hub.control.run({ client: token });
  }
  return new Response(null, { status: 200, headers: { accept: STRING_EVENT_TYPE } });
}

/**
 * The routes of `pathname` if it is one of the library's: `{GET}` for
 * `/poll/<token>`, `{POST}` for `/ping/<token>` and `/close/<token>`.
 */
export function eventsourceRoutes(pathname: string): Record<string, Route> | undefined {
  if (!/^\/(poll|ping|close)\//.test(pathname)) return undefined;
  const path = splitActionPath(pathname);
  if (!path) return undefined;
  const { action, token } = path;
  if (action === LISTEN) return { GET: (c) => listen(c, token) };
  if (action === "ping" || action === "close") return { POST: (c) => act(c, action, token) };
  return undefined;
}
