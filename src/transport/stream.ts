/**
 * A subscriber backed by a `ReadableStream`, for `Deno.serve` responses.
 * Its queue is bounded by `maxBuffered` bytes: a client that stops reading is
 * cut off (the stream errors, the connection drops, the browser reconnects
 * with its Last-Event-ID) instead of growing memory without end.
 *
 * @module
 */

import type { StreamIntent } from "../http/stream_intent.ts";
import type { CloseReason, Subscriber } from "../subscriber.ts";

/** Raised into a cut-off stream; visible only to the transport. */
export class SlowClientError extends Error {
  constructor(limit: number) {
    super(`client fell more than ${limit} bytes behind and was cut off`);
    this.name = "SlowClientError";
  }
}

class StreamSubscriber implements Subscriber {
  readonly id: string;
  readonly channels: readonly string[];
  onClose?: (reason: CloseReason) => void;
  readonly #limit: number;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;

  constructor(intent: StreamIntent) {
    this.id = intent.id;
    this.channels = intent.channels;
    this.#limit = intent.maxBuffered;
  }

  bind(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#controller.enqueue(bytes);
    if (this.#controller.desiredSize! < 0) this.close("slow");
  }

  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (reason === "slow") {
        this.#controller.error(new SlowClientError(this.#limit));
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
