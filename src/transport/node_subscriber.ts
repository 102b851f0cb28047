/**
 * The node transport's subscriber: a stream written straight to its socket,
 * with no response object in the way once the socket is taken from
 * `node:http` (see ./take_socket.ts), writes coalesced by the flusher.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { StreamIntent } from "../http/stream_intent.ts";
import type { CloseReason, Subscriber } from "../subscriber.ts";
import type { Flushable, Flusher } from "./flusher.ts";

/**
 * Node streams wrap every `Uint8Array` written in a new `Buffer` view; a
 * fan-out writes one event's bytes to every socket in turn, so one view per
 * event, kept until the next, spares one allocation per subscriber.
 */
let lastBytes: Uint8Array | undefined;
let lastBuffer: Buffer | undefined;
function asBuffer(bytes: Uint8Array): Buffer {
  if (bytes !== lastBytes) {
    lastBytes = bytes;
    lastBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return lastBuffer!;
}

/** How long a stream the server ended may take to hand its last bytes to a client that does not read. */
const END_GRACE_MS = 5_000;

/**
 * A subscriber that writes to its `node:http` response's socket. The SSE body
 * is unframed, so events go to the socket as they are, skipping the response
 * object's per-write work. A write waits for the {@linkcode Flusher}'s pass:
 * the first event of a pass is held as it is and written alone (the idle
 * case: one plain write); a second one corks the socket, so all that the pass
 * finds leaves in one `writev`.
 */
export class NodeSubscriber implements Subscriber, Flushable {
  readonly id: string;
  readonly channels: readonly string[];
  readonly remote?: string;
  onClose?: (reason: CloseReason) => void;
  /** The response while `node:http` still owns the socket (see ./take_socket.ts). */
  readonly #response: http.ServerResponse | undefined;
  readonly #socket: Duplex;
  readonly #flusher: Flusher;
  readonly #limit: number;
  /** The first event since the last flush, while it is the only one. */
  #held: Buffer | undefined;
  #corked = false;
  #closed = false;

  constructor(
    intent: StreamIntent,
    response: http.ServerResponse | undefined,
    socket: Duplex,
    flusher: Flusher,
  ) {
    this.id = intent.id;
    this.channels = intent.channels;
    this.remote = intent.remote;
    this.#response = response;
    this.#socket = socket;
    this.#flusher = flusher;
    this.#limit = intent.maxBuffered;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    const socket = this.#socket;
    if (socket.writableLength > this.#limit) return this.close("slow");
    const buffer = asBuffer(bytes);
    if (this.#corked) {
      socket.write(buffer);
    } else if (this.#held === undefined) {
      this.#held = buffer;
      this.#flusher.add(this);
    } else {
      this.#corked = true;
      socket.cork();
      socket.write(this.#held);
      socket.write(buffer);
      this.#held = undefined;
    }
  }

  flush(): void {
    if (this.#corked) {
      this.#corked = false;
      this.#socket.uncork();
    } else if (this.#held !== undefined) {
      this.#socket.write(this.#held);
      this.#held = undefined;
    }
  }

  ready(): Promise<void> {
    const socket = this.#socket;
    // A socket emits "drain" only after a write found its buffer over the
    // high-water mark (64 KiB in Deno, not configurable); wait exactly then.
    if (this.#closed || !socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason === "slow") (this.#response ?? this.#socket).destroy();
    else if (reason !== "client") {
      this.flush();
      if (this.#response) this.#response.end();
      else {
        // A taken socket is half-open: end() alone would wait for the
        // client's FIN, forever for a client that is gone without one. Let it
        // go once our side is flushed, as node:http's destroySoon() does, or
        // after a grace period if the client does not read what is left.
        const socket = this.#socket;
        socket.end(() => socket.destroy());
        const timer = setTimeout(() => socket.destroy(), END_GRACE_MS);
        Deno.unrefTimer(timer);
        socket.once("close", () => clearTimeout(timer));
      }
    }
    this.onClose?.(reason);
  }
}
