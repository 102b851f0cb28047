/**
 * Routes a request to its handler, adds CORS, and turns errors into
 * responses in one place. Transport-independent: `(Request) => Response`.
 *
 * @module
 */

import { ClientTokens } from "../client_tokens.ts";
import type { Config } from "../config/options.ts";
import type { Hub } from "../hub.ts";
import { RejectedRequests } from "../metrics.ts";
import { RateLimiter } from "../rate_limit.ts";
import { SubscriberAuth } from "./subscriber_auth.ts";
import type { Route, RouteContext, Services } from "./context.ts";
import { preflight, withCors } from "./cors.ts";
import { disconnect } from "./disconnect.ts";
import { eventsourceRoutes } from "./eventsource_routes.ts";
import { MethodNotAllowedError, NotFoundError, UriTooLongError } from "./errors.ts";
import { metrics } from "./metrics.ts";
import { isPoll, poll } from "./poll.ts";
import { publish } from "./publish.ts";
import { errorResponse } from "./respond.ts";
import { demoPage, staticAsset } from "./static.ts";
import { healthz, stats } from "./stats.ts";
import { subscribe } from "./subscribe.ts";

/** Who is asking; transports fill it in. */
export interface ClientInfo {
  /** Peer address as seen by the server. */
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
}

/** A transport-independent handler. */
export type Handler = (
  request: Request,
  info: ClientInfo,
) => Response | Promise<Response>;

/** Longest query string read; 32 channels of 200 characters fit well within it. */
const MAX_QUERY = 8 * 1024;

/** The services every route shares, built once from the config and hub. */
export function createServices(config: Config, hub: Hub): Services {
  return {
    config,
    hub,
    tokens: new ClientTokens({ secret: config.clientTokenSecret, mode: config.clientTokens }),
    auth: SubscriberAuth.fromConfig(config),
    rate: config.publishRate > 0 ? new RateLimiter(config.publishRate) : undefined,
    rejected: new RejectedRequests(),
  };
}

/** Builds the request handler: one route table, one context per request. */
export function createRouter(services: Services): Handler {
  const { config } = services;
  const routes = new Map<string, Record<string, Route>>([
    ["/publish", { POST: publish }],
    ["/disconnect", { POST: disconnect }],
    ["/stats", { GET: stats }],
    ["/healthz", { GET: healthz }],
    ["/metrics", { GET: metrics }],
    ["/demo", { GET: demoPage, HEAD: demoPage }],
  ]);
  routes.set(config.path, {
    ...routes.get(config.path),
    GET: (c) => isPoll(c) ? poll(c) : subscribe(c),
  });
  const assets: Record<string, Route> = { GET: staticAsset, HEAD: staticAsset };
  // The eventsource library's /poll/<token>, /ping/<token>, /close/<token>.
  const eventsource = config.eventsourceRoutes ? eventsourceRoutes : undefined;

  return async (request, info) => {
    const origin = request.headers.get("origin");
    let response: Response;
    try {
      const url = new URL(request.url);
      if (url.search.length > MAX_QUERY) {
        throw new UriTooLongError(
          `query string is ${url.search.length} characters; the limit is ${MAX_QUERY}`,
        );
      }
      const methods = url.pathname.startsWith("/static/")
        ? assets
        : routes.get(url.pathname) ?? eventsource?.(url.pathname);
      if (!methods) {
        throw new NotFoundError(
          `nothing is served at ${url.pathname}; subscribe at ${config.path}?channels=…`,
        );
      }
      const route = methods[request.method];
      if (route) {
        const c: RouteContext = { ...services, request, url, remote: info.remoteAddr.hostname };
        response = await route(c);
      } else if (request.method === "OPTIONS") {
        return preflight(config.corsOrigin, origin, [
          ...Object.keys(methods),
          "OPTIONS",
        ]);
      } else {
        throw new MethodNotAllowedError(request.method, Object.keys(methods));
      }
    } catch (error) {
      response = errorResponse(error);
      services.rejected.add(response.status);
    }
    return withCors(response, config.corsOrigin, origin);
  };
}
