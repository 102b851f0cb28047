/**
 * sse-hub as a library, for Deno apps that embed the hub instead of running a
 * separate server (the role of Python's `sse` Publisher and of cyclone-sse's
 * `--app` extension point).
 *
 * - {@linkcode Hub} (`src/library/hub.ts`): channels in-process; `subscribe` gives a `ReadableStream`
 *   of SSE bytes to return as a response body, `publish` sends to channels,
 *   optionally rendering per subscriber from its `properties`.
 * - {@linkcode createHandler} (`src/library/handler.ts`): the whole sse-hub HTTP surface (subscribe,
 *   publish, stats, polling, assets…) as one `(Request) => Response`, to mount
 *   under a path of your own server.
 *
 * @example A chat that skips the sender, as in the sse library's example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { Hub } from "./mod.ts";
 *
 * const hub = new Hub({ heartbeatMs: 0 });
 * const ann = hub.subscribe("chat", { properties: "ann" });
 * const bob = hub.subscribe("chat", { properties: "bob" });
 * const delivered = await hub.publish("chat", (user) => user === "ann" ? null : "ann: hi");
 * assertEquals([delivered, hub.subscribers("chat")], [1, 2]);
 * hub.close();
 * await Promise.all([ann.cancel(), bob.cancel()]);
 * ```
 *
 * @module
 */

export type { Config } from "./src/config/options.ts";
export { type RunningServer, startServer } from "./src/server.ts";
export {
  type PublishData,
  SseHub as Hub,
  type SseHubOptions as HubOptions,
  type SubscribeOptions,
} from "./src/library/hub.ts";
export { createHandler, type HandlerOptions, type SseHandler } from "./src/library/handler.ts";
