/**
 * `GET /stats` (cyclone-sse's `[["channel", subscribers], …]`) and
 * `GET /healthz`.
 *
 * @module
 */

import type { RouteContext } from "./context.ts";
import { json } from "./respond.ts";

/** Non-empty channels and their subscriber counts. */
export function stats({ hub }: RouteContext): Response {
  return json(hub.stats());
}

/** 200 while the broker can publish and the server is not draining, else 503. */
export function healthz({ hub }: RouteContext): Response {
  const ok = hub.broker.ready && !hub.draining;
  return json({
    status: hub.draining ? "draining" : ok ? "ok" : "unavailable",
    broker: hub.broker.kind,
    subscribers: hub.subscriberCount,
    channels: hub.channelCount,
  }, ok ? 200 : 503);
}
