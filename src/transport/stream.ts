/**
 * A subscriber backed by a `ReadableStream`, for `Deno.serve` responses.
 * Its queue is bounded by `maxBuffered` bytes: a client that stops reading is
 * cut off (the stream errors, the connection drops, the browser reconnects
 * with its Last-Event-ID) instead of growing memory without end. Replays are
 * paced through {@linkcode Subscriber.ready} so they never trip that bound.
 *
 * @module
 */

import type { StreamIntent } from "../http/stream_intent.ts";
import type { CloseReason, Subscriber } from "../subscriber.ts";

class StreamSubscriber implements Subscriber {
  readonly id: string;
  readonly channels: readonly string[];
  readonly properties: unknown;
  readonly remote?: string;
  onClose?: (reason: CloseReason) => void;
  readonly #limit: number;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  /** Replays waiting for the queue to drain below half the limit. */
  #waiting: (() => void)[] = [];

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

  /** Bytes queued and not yet taken by the HTTP layer (the high-water mark is the limit). */
  get #queued(): number {
    return this.#limit - this.#controller.desiredSize!;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#queued > this.#limit) this.close("slow");
    else this.#controller.enqueue(bytes);
  }

  ready(): Promise<void> {
    if (this.#closed || this.#queued <= this.#limit / 2) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Called by the stream each time the HTTP layer takes a chunk. */
  pulled(): void {
    if (this.#waiting.length > 0 && this.#queued <= this.#limit / 2) this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const resolve of waiting) resolve();
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
      } else if (reason !== "client") this.#controller.close();
    } catch {
      // already cancelled by the client
    }
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
      subscriber.pulled();
    },
    cancel() {
      subscriber.close("client");
    },
  }, {
    highWaterMark: intent.maxBuffered,
    size: (chunk) => chunk.byteLength,
  });
  intent.attach(subscriber);
  return stream;
}
