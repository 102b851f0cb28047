/**
 * The library's hub: channels in-process, for Deno apps that embed sse-hub
 * instead of running it as a server (the role of Python's `sse` Publisher).
 * `subscribe` gives a `ReadableStream` of SSE bytes to return as a response
 * body; `publish` sends to channels, optionally rendering per subscriber from
 * its `properties`. `mod.ts` exports it as `Hub`.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { MemoryBroker } from "../brokers/memory.ts";
import { parseChannelList } from "../channels.ts";
import { encodeEvent, encodePreamble } from "../encode.ts";
import { Hub } from "../hub.ts";
import { openStream } from "../transport/stream.ts";

/** Options for {@linkcode SseHub}. */
export interface SseHubOptions {
  /** Events kept for Last-Event-ID replay (default 1000). */
  readonly historySize?: number;
  /** Milliseconds between heartbeat comments; 0 disables (default 15,000). */
  readonly heartbeatMs?: number;
  /** Reconnection delay told to clients, in milliseconds (default 2,000). */
  readonly retryMs?: number;
  /** Bytes queued for one slow subscriber before it is cut off (default 1 MiB). */
  readonly maxBuffered?: number;
}

/** Options for {@linkcode SseHub.subscribe}. */
export interface SubscribeOptions<P> {
  /** Anything you want handed to per-subscriber publishes (a user, a session…). */
  readonly properties?: P;
  /** Messages sent first, before anything published (no ids; not replayed). */
  readonly initialData?: readonly string[];
  /** Replay what was published after this id (the request's Last-Event-ID). */
  readonly lastEventId?: string;
}

/** Data for {@linkcode SseHub.publish}: text, or text made per subscriber (falsy: skip it). */
export type PublishData<P> = string | ((properties: P) => string | null | undefined | false);

const toList = (channels: string | readonly string[]) =>
  parseChannelList(typeof channels === "string" ? [channels] : channels, Infinity);

let streams = 0;

/**
 * An in-process channel hub producing SSE byte streams.
 *
 * @example Serving it from Deno.serve
 * ```ts ignore
 * import { SseHub } from "./hub.ts";
 * const hub = new SseHub();
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
export class SseHub<P = unknown> {
  readonly #core: Hub;
  readonly #broker: MemoryBroker;
  readonly #started: Promise<void>;
  readonly #retryMs: number;
  readonly #maxBuffered: number;

  constructor(options: SseHubOptions = {}) {
    this.#broker = new MemoryBroker({ historySize: options.historySize ?? 1000 });
    this.#retryMs = options.retryMs ?? 2000;
    this.#core = new Hub({
      broker: this.#broker,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      retryMs: this.#retryMs,
    });
    this.#started = this.#core.start();
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
    const preamble = concat(chunks);
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
