/**
 * sse-hub as a library, for Deno apps that embed the hub instead of running a
 * separate server (the role of Python's `sse` Publisher and of cyclone-sse's
 * `--app` extension point).
 *
 * - {@linkcode Hub}: channels in-process; `subscribe` gives a `ReadableStream`
 *   of SSE bytes to return as a response body, `publish` sends to channels,
 *   optionally rendering per subscriber from its `properties`.
 * - {@linkcode createHandler}: the whole sse-hub HTTP surface (subscribe,
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

import { concat } from "@std/bytes/concat";
import { MemoryBroker } from "./src/brokers/memory.ts";
import { createBroker } from "./src/brokers/create.ts";
import { parseChannelList } from "./src/channels.ts";
import { type Config, defaultConfig } from "./src/config/options.ts";
import { encodeEvent, encodePreamble } from "./src/encode.ts";
import { type ClientInfo, createHandler as createRoutes } from "./src/http/handler.ts";
import { Hub as CoreHub } from "./src/hub.ts";
import { openStream } from "./src/transport/stream.ts";
import { realize } from "./src/transport/serve.ts";

export type { Config } from "./src/config/options.ts";
export { type RunningServer, startServer } from "./src/server.ts";

/** Options for {@linkcode Hub}. */
export interface HubOptions {
  /** Events kept for Last-Event-ID replay (default 1000). */
  readonly historySize?: number;
  /** Milliseconds between heartbeat comments; 0 disables (default 15,000). */
  readonly heartbeatMs?: number;
  /** Reconnection delay told to clients, in milliseconds (default 2,000). */
  readonly retryMs?: number;
  /** Bytes queued for one slow subscriber before it is cut off (default 1 MiB). */
  readonly maxBuffered?: number;
}

/** Options for {@linkcode Hub.subscribe}. */
export interface SubscribeOptions<P> {
  /** Anything you want handed to per-subscriber publishes (a user, a session…). */
  readonly properties?: P;
  /** Messages sent first, before anything published (no ids; not replayed). */
  readonly initialData?: readonly string[];
  /** Replay what was published after this id (the request's Last-Event-ID). */
  readonly lastEventId?: string;
}

/** Data for {@linkcode Hub.publish}: text, or text made per subscriber (falsy: skip it). */
export type PublishData<P> = string | ((properties: P) => string | null | undefined | false);

const toList = (channels: string | readonly string[]) =>
  parseChannelList(typeof channels === "string" ? [channels] : channels, Infinity);

let streams = 0;

/**
 * An in-process channel hub producing SSE byte streams.
 *
 * @example Serving it from Deno.serve
 * ```ts ignore
 * import { Hub } from "./mod.ts";
 * const hub = new Hub();
 * Deno.serve((request) => {
 *   const url = new URL(request.url);
 *   if (url.pathname === "/events") {
 *     const body = hub.subscribe(url.searchParams.getAll("channel"), {
 *       lastEventId: request.headers.get("last-event-id") ?? undefined,
 *     });
 *     return new Response(body, { headers: { "content-type": "text/event-stream" } });
 *   }
 *   return new Response("not found", { status: 404 });
 * });
 * ```
 */
export class Hub<P = unknown> {
  readonly #core: CoreHub;
  readonly #broker: MemoryBroker;
  readonly #started: Promise<void>;
  readonly #retryMs: number;
  readonly #maxBuffered: number;

  constructor(options: HubOptions = {}) {
    this.#broker = new MemoryBroker({ historySize: options.historySize ?? 1000 });
    this.#core = new CoreHub({ broker: this.#broker, heartbeatMs: options.heartbeatMs ?? 15_000 });
    this.#started = this.#core.start();
    this.#retryMs = options.retryMs ?? 2000;
    this.#maxBuffered = options.maxBuffered ?? 1024 * 1024;
  }

  /** A stream of SSE bytes for one subscriber of `channels`; cancel it to unsubscribe. */
  subscribe(
    channels: string | readonly string[],
    options: SubscribeOptions<P> = {},
  ): ReadableStream<Uint8Array> {
    const list = toList(channels);
    const chunks = [
      encodePreamble(this.#retryMs, "sse-hub"),
      ...(options.initialData ?? []).map((data) => encodeEvent({ data })),
    ];
    const preamble = concat(chunks) as Uint8Array<ArrayBuffer>;
    return openStream({
      id: `lib${++streams}`,
      channels: list,
      properties: options.properties,
      preamble,
      maxBuffered: this.#maxBuffered,
      attach: (subscriber) => this.#core.subscribe(subscriber, options.lastEventId),
    });
  }

  /**
   * Publishes to `channels` and resolves with the number of subscribers
   * written to. Text is encoded once for everyone and kept for replay; a
   * function is called per subscriber with its `properties`, and only a
   * truthy result is sent to that subscriber (such events are not replayed).
   */
  async publish(
    channels: string | readonly string[],
    data: PublishData<P>,
    options: { event?: string } = {},
  ): Promise<number> {
    await this.#started;
    const list = toList(channels);
    if (typeof data !== "function") {
      return (await this.#core.publish({ channels: list, event: options.event, data })).delivered;
    }
    return this.#core.dispatchEach(list, (sub) => {
      const text = data(sub.properties as P);
      return text ? encodeEvent({ event: options.event, data: text }) : undefined;
    });
  }

  /** Subscribers on `channel` right now. */
  subscribers(channel: string): number {
    return this.#core.subscribers(channel);
  }

  /** Ends every stream and stops the heartbeat. */
  close(): void {
    this.#core.close();
  }
}

/** Options for {@linkcode createHandler}: any sse-hub option, plus where it is mounted. */
export type HandlerOptions = Partial<Config> & {
  /** Path prefix the handler is mounted under, e.g. `/sse`; stripped before routing. */
  readonly prefix?: string;
};

/** A mounted sse-hub: call it with requests; `close()` ends its streams. */
export type SseHandler = ((request: Request, info?: ClientInfo) => Promise<Response>) & {
  close(): Promise<void>;
};

/**
 * The sse-hub HTTP surface as one handler, for mounting inside another server.
 *
 * @example Mounted under /sse in a plain Deno.serve
 * ```ts ignore
 * import { createHandler } from "./mod.ts";
 * const sse = createHandler({ prefix: "/sse", publishKey: "secret" });
 * Deno.serve((request) =>
 *   new URL(request.url).pathname.startsWith("/sse/")
 *     ? sse(request)
 *     : new Response("my app")
 * );
 * // EventSource("/sse/?channels=news"); POST /sse/publish
 * ```
 */
export function createHandler(options: HandlerOptions = {}): SseHandler {
  const { prefix = "", ...overrides } = options;
  const config: Config = { ...defaultConfig(), ...overrides };
  const broker = createBroker(config);
  const hub = new CoreHub({ broker, heartbeatMs: config.heartbeat });
  const started = hub.start();
  const routes = createRoutes({ config, hub });
  const anonymous: ClientInfo = { remoteAddr: { hostname: "", port: 0 } };
  const handler = async (request: Request, info: ClientInfo = anonymous) => {
    await started;
    if (prefix) {
      const url = new URL(request.url);
      if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
        return new Response(`not under ${prefix}`, { status: 404 });
      }
      url.pathname = url.pathname.slice(prefix.length) || "/";
      request = new Request(url, request);
    }
    return realize(await routes(request, info));
  };
  return Object.assign(handler, {
    async close() {
      hub.close();
      await broker.close();
    },
  });
}
