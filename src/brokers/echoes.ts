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
 * const echoes = new Echoes(2000);
 * echoes.settle("1-0", 3); // came back before the publish asked
 * await echoes.expect("1-0"); // 3
 * ```
 *
 * @module
 */

/** Most early counts remembered (echoes that came back before anyone asked). */
const MAX_EARLY = 1000;

/** Pending and early local-delivery counts, by key. */
export class Echoes {
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, (delivered: number) => void>();
  readonly #early = new Map<string, number>();

  /** `timeoutMs`: how long {@linkcode Echoes.expect} waits before it answers 0. */
  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Resolves with the count settled for `key`, or 0 after the timeout. */
  expect(key: string): Promise<number> {
    const early = this.#early.get(key);
    if (early !== undefined) {
      this.#early.delete(key);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(0), this.#timeoutMs);
      const finish = (delivered: number) => {
        clearTimeout(timer);
        this.#waiting.delete(key);
        resolve(delivered);
      };
      this.#waiting.set(key, finish);
    });
  }

  /** Records that `key` came back and reached `delivered` local subscribers. */
  settle(key: string, delivered: number): void {
    const waiting = this.#waiting.get(key);
    if (waiting) return waiting(delivered);
    this.#early.set(key, delivered);
    if (this.#early.size > MAX_EARLY) this.#early.delete(this.#early.keys().next().value!);
  }

  /** Answers every pending wait with 0 (the broker is closing or the publish failed). */
  cancel(key?: string): void {
    if (key !== undefined) return this.#waiting.get(key)?.(0);
    for (const finish of [...this.#waiting.values()]) finish(0);
  }
}
