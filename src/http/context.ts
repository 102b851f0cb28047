/**
 * What a route gets: one context per request, as Hono's handlers take one.
 * The app-wide parts ({@linkcode Services}) are built once by
 * `createRouter`; the request's own parts are added per request.
 *
 * @module
 */

import type { ClientTokens } from "../client_tokens.ts";
import type { Config } from "../config/options.ts";
import type { Hub } from "../hub.ts";
import type { RejectedRequests } from "../metrics.ts";
import type { RateLimiter } from "../rate_limit.ts";
import type { SubscriberAuth } from "./subscriber_auth.ts";

/** The app-wide services routes use, built once per app. */
export interface Services {
  readonly config: Config;
  readonly hub: Hub;
  /** Issues and checks the connections' client tokens. */
  readonly tokens: ClientTokens;
  /** Subscriber JWT checks, when `--private` channels are configured. */
  readonly auth?: SubscriberAuth;
  /** Publish rate limits, when `--publish-rate` is set. */
  readonly rate?: RateLimiter;
  /** Counts of rejected requests by status, for /metrics. */
  readonly rejected: RejectedRequests;
}

/** One request and everything its route may use. */
export interface RouteContext extends Services {
  readonly request: Request;
  /** The parsed request URL (its path already stripped of a mount prefix). */
  readonly url: URL;
  /** The client's address as the transport saw it. */
  readonly remote: string;
}

/** A route: one context in, one response out. */
export type Route = (c: RouteContext) => Response | Promise<Response>;
