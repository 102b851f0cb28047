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
  lastJoined = concat(lastParts) as Uint8Array<ArrayBuffer>;
  return lastJoined;
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

  constructor(intent: StreamIntent) {
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
        // Deno prints a body stream's error when it drops the connection: make
        // that one line saying what happened and what to change.
        this.#controller.error(
          `sse-hub: connection ${this.id} cut off: more than ${this.#limit} bytes waiting (--max-buffered); it will reconnect and replay`,
        );
      } else if (reason !== "client") {
        if (this.#waiting.length > 0) this.#controller.enqueue(joinShared(this.#waiting));
        this.#controller.close();
      }
    } catch {
      // already cancelled by the client
    }
    this.#waiting.length = 0;
    this.onClose?.(reason);
  }
}

/** Builds the response body for a stream intent and attaches its subscriber. */
export function openStream(intent: StreamIntent): ReadableStream<Uint8Array> {
  const subscriber = new StreamSubscriber(intent);
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
