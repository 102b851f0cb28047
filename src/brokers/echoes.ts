/**
 * Waiting for one's own publish to come back. A broker that fans out through
 * a server (Redis pub/sub, a RabbitMQ exchange) learns how many local
 * subscribers an event reached only when the event returns to this
 * instance; a publish waits here for that count, by a key (the event id or
 * a publish token), for at most a timeout.
 *
 * @example
 * ```ts
 * import { Echoes } from "./echoes.ts";
 * const echoes = new Echoes(2000, 0);
 * echoes.settle("1-0", 3); // came back before the publish asked
 * await echoes.expect("1-0"); // 3
 * ```
 *
 * @module
 */

/** Most early counts remembered (echoes that came back before anyone asked). */
const MAX_EARLY = 10_000;

/** Pending and early answers (local-delivery counts, say), by key. */
export class Echoes<T> {
  readonly #timeoutMs: number;
  readonly #fallback: T;
  readonly #waiting = new Map<string, (answer: T) => void>();
  readonly #early = new Map<string, T>();

  /** `timeoutMs`: how long {@linkcode Echoes.expect} waits before it answers `fallback`. */
  constructor(timeoutMs: number, fallback: T) {
    this.#timeoutMs = timeoutMs;
    this.#fallback = fallback;
  }

  /** Resolves with the answer settled for `key`, or the fallback after the timeout. */
  expect(key: string): Promise<T> {
    const early = this.#early.get(key);
    if (early !== undefined) {
      this.#early.delete(key);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(this.#fallback), this.#timeoutMs);
      const finish = (answer: T) => {
        clearTimeout(timer);
        this.#waiting.delete(key);
        resolve(answer);
      };
      this.#waiting.set(key, finish);
    });
  }

  /** Records that `key` came back, with its answer. */
  settle(key: string, answer: T): void {
    const waiting = this.#waiting.get(key);
    if (waiting) return waiting(answer);
    this.#early.set(key, answer);
    if (this.#early.size > MAX_EARLY) this.#early.delete(this.#early.keys().next().value!);
  }

  /** Answers the wait for `key` (all, without one) with the fallback: closing, or failed. */
  cancel(key?: string): void {
    if (key !== undefined) return this.#waiting.get(key)?.(this.#fallback);
    for (const finish of [...this.#waiting.values()]) finish(this.#fallback);
  }
}
