/**
 * Token buckets per key (a publish key or a client address): `rate` tokens a
 * second, bursts up to `rate`.
 *
 * @module
 */

import { TooManyRequestsError } from "./errors.ts";

/** Most keys tracked; beyond it the longest-idle full buckets are dropped. */
const MAX_KEYS = 10_000;

/** Per-key token buckets. */
export class RateLimiter {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(ratePerSecond: number, now: () => number = Date.now) {
    this.#rate = ratePerSecond;
    this.#now = now;
  }

  /**
   * Takes a token for `key`: 0 when allowed, else the seconds to wait until
   * the next token.
   */
  take(key: string): number {
    const now = this.#now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#rate, at: now };
    bucket.tokens = Math.min(this.#rate, bucket.tokens + ((now - bucket.at) / 1000) * this.#rate);
    bucket.at = now;
    this.#buckets.delete(key);
    this.#buckets.set(key, bucket); // most recently used last
    if (this.#buckets.size > MAX_KEYS) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.#rate;
  }

  /**
   * Takes a publish token for `key`, or throws 429 with `Retry-After` naming
   * `--publish-rate`.
   */
  enforce(key: string): void {
    const wait = this.take(key);
    if (wait > 0) {
      throw new TooManyRequestsError(
        `over ${this.#rate} publishes a second (--publish-rate); retry in ${wait.toFixed(2)} s`,
        Math.ceil(wait),
      );
    }
  }
}
