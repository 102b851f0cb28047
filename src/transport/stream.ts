/**
 * A subscriber backed by a `ReadableStream`, for `Deno.serve` responses.
 *
 * The stream is pulled: an event goes into it at once when the HTTP layer is
 * waiting for data, and otherwise waits in a list until it asks. Events that
 * pile up meanwhile (a burst, a busy server) leave as one chunk, so one
 * socket write instead of one each; {@linkcode joinShared} builds that chunk
 * once for every subscriber waiting for the same events.
 *
 * What waits is bounded by `maxBuffered` bytes: a client that stops reading
 * is cut off (the stream errors, the connection drops, the browser
 * reconnects with its Last-Event-ID) instead of growing memory without end.
 * Replays are paced through {@linkcode Subscriber.ready} so they never trip
 * that bound.
 *
 * A stream the server ends ends its CONNECTION too. Closing the body would
 * only send HTTP/1.1's last chunk: Deno.serve then keeps the connection open
 * for another request (it ignores a `Connection: close` response header), so
 * a client that waits for the connection to end (raw sockets, some proxies
 * and SSE libraries) would see every stream end at once, when the process
 * exits, which defeats the spread of a drain. So the stream hands over its
 * last bytes and, once the HTTP layer has taken them, errors with a
 * {@linkcode StreamEnd}: Deno.serve then drops the connection after writing
 * what it was given, and passes the error to its `onError` (see ./serve.ts).
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import type { StreamIntent } from "../http/stream_intent.ts";
import type { CloseReason, Subscriber } from "../subscriber.ts";

let lastParts: Uint8Array[] = [];
let lastJoined: Uint8Array | undefined;

/**
 * The concatenation of `parts`, shared with the previous caller that asked
 * for the same parts: a fan-out joins each batch once, not once per
 * subscriber.
 */
export function joinShared(parts: readonly Uint8Array[]): Uint8Array {
  if (
    lastJoined !== undefined && parts.length === lastParts.length &&
    parts.every((part, i) => part === lastParts[i])
  ) return lastJoined;
  lastParts = [...parts];
  lastJoined = concat(lastParts);
  return lastJoined;
}

/**
 * Why a stream body errored on purpose: the server ended it (drain,
 * lifetime, kick) or cut off a slow client. Not a failure; the serve
 * transport's `onError` recognises it and only logs the `slow` case.
 */
export class StreamEnd extends Error {
  constructor(readonly reason: CloseReason, message: string) {
    super(message);
    this.name = "StreamEnd";
  }
}

class StreamSubscriber implements Subscriber {
  readonly id: string;
  readonly channels: readonly string[];
  readonly properties: unknown;
  readonly remote?: string;
  onClose?: (reason: CloseReason) => void;
  readonly #limit: number;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** Events written while the HTTP layer was busy, oldest first. */
  readonly #waiting: Uint8Array[] = [];
  #waitingBytes = 0;
  /** Whether the HTTP layer asked for data and got none yet. */
  #wanted = false;
  /** Replays waiting for room (below half the limit). */
  #replays: (() => void)[] = [];
  /** Set once closed by the server: errored at the next pull, ending the connection. */
  #ending: StreamEnd | undefined;
  /** Whether a stream the server closes ends its connection (errors) or only its body. */
  readonly #endConnection: boolean;

  constructor(intent: StreamIntent, endConnection: boolean) {
    this.#endConnection = endConnection;
    this.id = intent.id;
    this.channels = intent.channels;
    this.properties = intent.properties;
    this.remote = intent.remote;
    this.#limit = intent.maxBuffered;
  }

  bind(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    // The HTTP layer takes a chunk only once the previous one is written, so
    // what waits here is what the client has not taken.
    if (this.#waitingBytes > this.#limit) return this.close("slow");
    if (this.#wanted) {
      this.#wanted = false;
      this.#controller.enqueue(bytes);
    } else {
      this.#waiting.push(bytes);
      this.#waitingBytes += bytes.byteLength;
    }
  }

  ready(): Promise<void> {
    if (this.#closed || this.#waitingBytes <= this.#limit / 2) return Promise.resolve();
    return new Promise((resolve) => this.#replays.push(resolve));
  }

  /** Called by the stream when the HTTP layer wants more. */
  pull(): void {
    // It has taken the last bytes: now end the connection.
    if (this.#ending) return this.#controller.error(this.#ending);
    const waiting = this.#waiting;
    if (waiting.length === 0) {
      this.#wanted = true;
    } else {
      this.#controller.enqueue(waiting.length === 1 ? waiting[0] : joinShared(waiting));
      waiting.length = 0;
      this.#waitingBytes = 0;
    }
    if (this.#replays.length > 0) this.#wake();
  }

  #wake(): void {
    const replays = this.#replays;
    this.#replays = [];
    for (const resolve of replays) resolve();
  }

  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wake();
    try {
      if (reason === "slow") {
        this.#controller.error(
          new StreamEnd(
            reason,
            `connection ${this.id} cut off: more than ${this.#limit} bytes waiting (--max-buffered); it will reconnect and replay`,
          ),
        );
      } else if (reason !== "client") {
        this.#end(reason);
      }
    } catch {
      // already cancelled by the client
    }
    this.#waiting.length = 0;
    this.onClose?.(reason);
  }

  /**
   * Hands over what waits, then errors the stream as soon as the HTTP layer
   * has taken it (erroring drops chunks still queued in the stream).
   */
  #end(reason: CloseReason): void {
    if (!this.#endConnection) {
      if (this.#waiting.length > 0) this.#controller.enqueue(joinShared(this.#waiting));
      return this.#controller.close();
    }
    this.#ending = new StreamEnd(reason, `connection ${this.id} closed by the server (${reason})`);
    if (this.#waiting.length > 0) {
      this.#controller.enqueue(joinShared(this.#waiting));
      this.#wanted = false;
    }
    if (this.#wanted) this.#controller.error(this.#ending);
  }
}

/** Options for {@linkcode openStream}. */
export interface OpenStreamOptions {
  /**
   * End the connection, not only the body, when the server closes the
   * stream (errors it with a {@linkcode StreamEnd}): what sse-hub's own
   * Deno.serve listener wants; an embedding app's server gets a clean end.
   */
  readonly endConnection?: boolean;
}

/** Builds the response body for a stream intent and attaches its subscriber. */
export function openStream(
  intent: StreamIntent,
  options: OpenStreamOptions = {},
): ReadableStream<Uint8Array> {
  const subscriber = new StreamSubscriber(intent, options.endConnection ?? false);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      subscriber.bind(controller);
      controller.enqueue(intent.preamble);
    },
    pull() {
      subscriber.pull();
    },
    cancel() {
      subscriber.close("client");
    },
  }, { highWaterMark: 0 });
  intent.attach(subscriber);
  return stream;
}
