/**
 * Write coalescing for the lean transport. A subscriber's writes wait for one
 * time-sliced {@linkcode Flusher} pass over every subscriber that has
 * something queued (./node.ts holds the first event, and corks the socket
 * for more), so:
 *
 * - `Hub.dispatch` only queues references to the shared event bytes: a
 *   publish is answered after a few microseconds per subscriber, not after
 *   every socket write;
 * - messages that arrive while a pass is under way join the queue of each
 *   socket not yet flushed, and leave with it in one `writev` (one system
 *   call, one loopback packet) instead of one each. Under load the cost per
 *   delivery falls; an idle server sends each message at once, as before;
 * - a pass yields to the event loop, sockets included (./io_yield.ts), every
 *   {@linkcode SLICE_MS}, so publishes and new connections are served while
 *   a large fan-out is written, and what they publish joins it.
 *
 * @example
 * ```ts
 * import { Flusher } from "./flusher.ts";
 * const written: string[] = [];
 * const flusher = new Flusher();
 * flusher.add({ flush: () => written.push("a") });
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * written; // ["a"]
 * ```
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { immediate } from "./io_yield.ts";

/** Something with queued bytes to send. */
export interface Flushable {
  /** Sends what is queued; called once per {@linkcode Flusher.add}. */
  flush(): void;
}

/** How long one slice of a pass may run before yielding to the event loop. */
export const SLICE_MS = 4;

/** Checks the clock once per this many flushes (it costs more than a flush's bookkeeping). */
const CLOCK_EVERY = 64;

/** Flushes queued sockets in passes of {@linkcode SLICE_MS} slices. */
export class Flusher {
  readonly #yieldToIo: () => Promise<void>;
  #queue: Flushable[] = [];
  #next = 0;
  #running = false;

  /**
   * `yieldToIo` resolves once the runtime has served ready sockets (see
   * ./io_yield.ts); by default, after `setImmediate`.
   */
  constructor(yieldToIo?: () => Promise<void>) {
    this.#yieldToIo = yieldToIo ?? immediate;
  }

  /** Queues `item` for the current or next pass; add it again only after its `flush` ran. */
  add(item: Flushable): void {
    this.#queue.push(item);
    if (!this.#running) {
      this.#running = true;
      setImmediate(() => this.#pass());
    }
  }

  /** Items queued and not yet flushed. */
  get pending(): number {
    return this.#queue.length - this.#next;
  }

  async #pass(): Promise<void> {
    for (;;) {
      const queue = this.#queue;
      const deadline = performance.now() + SLICE_MS;
      let i = this.#next;
      while (i < queue.length) {
        const item = queue[i++];
        try {
          item.flush();
        } catch {
          // A socket that fails here is closed; its close handler cleans up.
        }
        if (i % CLOCK_EVERY === 0 && performance.now() > deadline) break;
      }
      if (i === queue.length) {
        queue.length = 0;
        this.#next = 0;
        this.#running = false;
        return;
      }
      // Under sustained load the queue never empties: drop the flushed head
      // now and then so it stays as long as what is waiting.
      if (i > 4096 && i > queue.length / 2) {
        this.#queue = queue.slice(i);
        i = 0;
      }
      this.#next = i;
      try {
        await this.#yieldToIo();
      } catch {
        await immediate();
      }
    }
  }
}
