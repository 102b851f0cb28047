/**
 * Closing many streams without a thundering herd: a drain closes them spread
 * over a time window, each first told a random reconnection delay, and a
 * connection lifetime is jittered so that streams opened together do not all
 * end together.
 *
 * @module
 */

import { encodePreamble } from "./encode.ts";
import type { Subscriber } from "./subscriber.ts";

/** How often a drain closes its next batch of streams. */
const DRAIN_TICK_MS = 100;

/**
 * Closes `subs` (reason `shutdown`) in random order, spread over `ms`; each
 * is first told a reconnection delay between `retryMs` and `retryMs` plus the
 * window. Resolves once the last batch is closed.
 */
export function closeSpread(
  subs: readonly Subscriber[],
  ms: number,
  retryMs: number,
): Promise<void> {
  const order = [...subs].sort(() => Math.random() - 0.5);
  const ticks = Math.max(1, Math.ceil(ms / DRAIN_TICK_MS));
  const perTick = Math.ceil(order.length / ticks);
  const jitters = Array.from(
    { length: 16 },
    (_, i) => encodePreamble(retryMs + (i / 16) * Math.max(ms, 1000), "draining"),
  );
  return new Promise((resolve) => {
    let next = 0;
    const tick = () => {
      for (const sub of order.slice(next, next + perTick)) {
        sub.write(jitters[Math.floor(Math.random() * jitters.length)]);
        sub.close("shutdown");
      }
      next += perTick;
      if (next >= order.length) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, DRAIN_TICK_MS);
    if (order.length === 0) tick();
  });
}

/** Closes each subscriber after about `maxMs` (±10 %), reason `lifetime`. */
export class Lifetimes {
  readonly #maxMs: number;
  readonly #timers = new Map<Subscriber, ReturnType<typeof setTimeout>>();

  /** `maxMs` 0 keeps connections open. */
  constructor(maxMs: number) {
    this.#maxMs = maxMs;
  }

  /** Starts `sub`'s clock. */
  start(sub: Subscriber): void {
    if (this.#maxMs <= 0) return;
    const lifetime = this.#maxMs * (0.9 + Math.random() * 0.2);
    this.#timers.set(sub, setTimeout(() => sub.close("lifetime"), lifetime));
  }

  /** Stops `sub`'s clock (it closed). */
  stop(sub: Subscriber): void {
    const timer = this.#timers.get(sub);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(sub);
  }
}
