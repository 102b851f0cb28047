/**
 * Event ids: `<milliseconds>-<sequence>`, the same shape as Redis stream ids,
 * so one ordering works for every broker. Ids only grow, across all channels
 * of a hub, and across restarts as long as the clock does not go backwards.
 *
 * @example
 * ```ts
 * import { compareIds, IdClock } from "./ids.ts";
 * const clock = new IdClock(() => 1000);
 * const a = clock.next(); // "1000-1": "1000-0" may be a previous process's
 * const b = clock.next(); // "1000-2"
 * compareIds(a, b) < 0; // true
 * ```
 *
 * @module
 */

/** A parsed event id. */
export interface EventId {
  readonly ms: number;
  readonly seq: number;
}

const ID_PATTERN = /^(\d{1,16})-(\d{1,16})$/;

/** Parses `"<ms>-<seq>"`; returns `null` for anything else (e.g. a UUID from cyclone-sse). */
export function parseId(id: string): EventId | null {
  const match = ID_PATTERN.exec(id);
  if (!match) return null;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return null;
  return { ms, seq };
}

/** Orders two parsed ids: negative when `a` is older than `b`. */
export function compareParsed(a: EventId, b: EventId): number {
  return a.ms - b.ms || a.seq - b.seq;
}

/** Orders two id strings; both must be valid ids (see {@linkcode parseId}). */
export function compareIds(a: string, b: string): number {
  const pa = parseId(a);
  const pb = parseId(b);
  if (!pa || !pb) throw new RangeError(`not an event id: ${pa ? b : a}`);
  return compareParsed(pa, pb);
}

/** Formats an id. */
export function formatId(id: EventId): string {
  return `${id.ms}-${id.seq}`;
}

/** Hands out strictly increasing ids from a millisecond clock. */
export class IdClock {
  #ms = 0;
  #seq = 0;
  readonly #now: () => number;

  /**
   * Starts at the current millisecond, as if `<now>-0` had been handed out:
   * an id a previous process handed out in this same millisecond then still
   * counts as older than {@linkcode IdClock.floor}.
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#ms = now();
  }

  /** No id handed out from now on is older than this one. */
  floor(): EventId {
    const now = this.#now();
    return now > this.#ms ? { ms: now, seq: 0 } : { ms: this.#ms, seq: this.#seq + 1 };
  }

  /**
   * Takes note of an id handed out elsewhere (another instance), so that
   * every id this clock hands out later is newer than it.
   */
  observe(id: EventId): void {
    if (id.ms > this.#ms || (id.ms === this.#ms && id.seq > this.#seq)) {
      this.#ms = id.ms;
      this.#seq = id.seq;
    }
  }

  /** The next id. */
  next(): string {
    const now = this.#now();
    if (now > this.#ms) {
      this.#ms = now;
      this.#seq = 0;
    } else {
      this.#seq++;
    }
    return `${this.#ms}-${this.#seq}`;
  }
}
