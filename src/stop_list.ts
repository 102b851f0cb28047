/**
 * Clients told to stop for good: until their entry expires, a reconnect with
 * the same `?client=` token is answered 204, which tells EventSource to stop
 * reconnecting (WHATWG HTML, "Server-sent events").
 *
 * @module
 */

/** Tokens that must not reconnect, each until its expiry. */
export class StopList {
  readonly #until = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** Refuses `client` for `ttlMs` (default: the configured time). */
  add(client: string, ttlMs: number = this.#ttlMs): void {
    this.#until.set(client, this.#now() + ttlMs);
    this.#prune();
  }

  /** Whether `client` is still refused. */
  has(client: string): boolean {
    const until = this.#until.get(client);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#until.delete(client);
    return false;
  }

  #prune(): void {
    const now = this.#now();
    for (const [client, until] of this.#until) if (until <= now) this.#until.delete(client);
  }
}
