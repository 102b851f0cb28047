/**
 * Long-polling, for browsers without EventSource: a subscribe request with
 * `X-Requested-With: XMLHttpRequest` (cyclone-sse's polyfill) or
 * `?transport=poll` gets the events after its Last-Event-ID at once, or
 * waits up to `--poll-timeout` for the next ones, then the response ENDS
 * (with a Content-Length). The client polls again with the last id it saw,
 * so it misses nothing that is still in history.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { encodePreamble } from "../encode.ts";
import { HEARTBEAT } from "../hub.ts";
import type { CloseReason, Subscriber } from "../subscriber.ts";
import type { RouteContext } from "./context.ts";
import { lastEventId, refuseWhileDraining, requestedChannels } from "./subscribe.ts";

/** Whether a subscribe request asks for long-polling. */
export function isPoll({ request, url }: RouteContext): boolean {
  return request.headers.get("x-requested-with")?.toLowerCase() === "xmlhttprequest" ||
    url.searchParams.get("transport") === "poll";
}

/** Collects what the hub writes until the poll answers. */
class PollSubscriber implements Subscriber {
  readonly chunks: Uint8Array[] = [];
  size = 0;
  onClose?: (reason: CloseReason) => void;
  #closed = false;
  #arrived = Promise.withResolvers<void>();

  constructor(readonly id: string, readonly channels: readonly string[], readonly limit: number) {}

  /** Resolves when the first event has been written or the poll is closed. */
  get arrived(): Promise<void> {
    return this.#arrived.promise;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || bytes === HEARTBEAT) return;
    this.chunks.push(bytes);
    this.size += bytes.byteLength;
    this.#arrived.resolve();
  }

  ready(): Promise<void> {
    // A full answer ends the poll; the client asks for the rest next time.
    if (this.size >= this.limit) this.close("client");
    return Promise.resolve();
  }

  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#arrived.resolve();
    this.onClose?.(reason);
  }
}

let polls = 0;

/** The long-poll route. */
export async function poll(
  { request, url, config, hub, auth }: RouteContext,
): Promise<Response> {
  refuseWhileDraining(hub);
  const channels = requestedChannels(url, config);
  hub.checkChannels(channels);
  await auth?.authorize(request, url, channels);
  const lastId = lastEventId(request, url);
  const sub = new PollSubscriber(`p${++polls}`, channels, config.maxBuffered);
  // A client that goes away stops counting at once (its request's signal
  // aborts when the connection closes), not after --poll-timeout.
  const leave = () => sub.close("client");
  request.signal.addEventListener("abort", leave, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // Gone already: a subscriber closed before it is added would never leave.
    if (!request.signal.aborted) await hub.subscribe(sub, lastId);
    if (sub.size === 0 && !request.signal.aborted) {
      timer = setTimeout(() => sub.close("client"), config.pollTimeoutMs);
      await sub.arrived;
      // Let events published in the same moment join this answer.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  } finally {
    request.signal.removeEventListener("abort", leave);
    clearTimeout(timer);
    sub.close("client");
  }
  const preamble = encodePreamble(config.retryMs, sub.size > 0 ? "sse-hub poll" : "no events");
  const body = concat([preamble, ...sub.chunks]);
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-store",
    },
  });
}
