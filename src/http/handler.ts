/**
 * Routes a request to its handler, adds CORS, and turns errors into
 * responses in one place. Transport-independent: `(Request) => Response`.
 *
 * @module
 */

import type { Config } from "../config/options.ts";
import { MethodNotAllowedError, NotFoundError, UriTooLongError } from "./errors.ts";
import type { Hub } from "../hub.ts";
import { StopList } from "../stop_list.ts";
import { SubscriberAuth } from "../subscriber_auth.ts";
import { preflight, withCors } from "./cors.ts";
import { disconnect } from "./disconnect.ts";
import { RejectedRequests } from "../metrics.ts";
import { RateLimiter } from "../rate_limit.ts";
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

/** What the routes need. */
export interface HandlerContext {
  readonly config: Config;
  readonly hub: Hub;
}

/** Longest query string read; 32 channels of 200 characters fit well within it. */
const MAX_QUERY = 8 * 1024;

type Route = (request: Request, url: URL, info: ClientInfo) =>
  | Response
  | Promise<Response>;

/** Builds the request handler for a hub and its config. */
export function createHandler(context: HandlerContext): Handler {
  const { config, hub } = context;
  const stopped = new StopList(config.stopTtl);
  const auth = SubscriberAuth.fromConfig(config);
  const rate = config.publishRate > 0 ? new RateLimiter(config.publishRate) : undefined;
  const rejected = new RejectedRequests();
  const routes = new Map<string, Record<string, Route>>([
    ["/publish", {
      POST: (request, _url, info) =>
        publish(request, config, hub, info.remoteAddr.hostname, rate, auth),
    }],
    ["/disconnect", { POST: (request) => disconnect(request, config, hub, stopped) }],
    ["/stats", { GET: () => stats(hub) }],
    ["/healthz", { GET: () => healthz(hub) }],
    ["/metrics", { GET: () => metrics(hub, rejected) }],
    ["/demo", { GET: demoPage, HEAD: demoPage }],
  ]);
  routes.set(config.path, {
    ...routes.get(config.path),
    GET: (request, url, info) =>
      isPoll(request, url)
        ? poll(request, url, config, hub, auth)
        : subscribe(request, url, config, hub, stopped, info.remoteAddr.hostname, auth),
  });
  const assets: Record<string, Route> = { GET: staticAsset, HEAD: staticAsset };

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
      const methods = url.pathname.startsWith("/static/") ? assets : routes.get(url.pathname);
      if (!methods) {
        throw new NotFoundError(
          `nothing is served at ${url.pathname}; subscribe at ${config.path}?channels=…`,
        );
      }
      const route = methods[request.method];
      if (route) {
        response = await route(request, url, info);
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
      rejected.add(response.status);
    }
    return withCors(response, config.corsOrigin, origin);
  };
}
