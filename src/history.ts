/**
 * A bounded, in-memory replay buffer: the newest `size` events (optionally no
 * older than `ttlMs`), in id order, so a reconnecting client gets exactly the
 * events after its `Last-Event-ID`, or learns that some are gone.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * import { createEvent } from "./event.ts";
 * const history = new History({ size: 2, floor: { ms: 0, seq: 0 } });
 * history.append(createEvent({ channels: ["a"], data: "1" }, "1-0"));
 * history.append(createEvent({ channels: ["b"], data: "2" }, "2-0"));
 * history.since("1-0", ["a", "b"]).events.length; // 1
 * ```
 *
 * @module
 */

import type { HubEvent } from "./event.ts";
import { compareParsed, type EventId, formatId, parseId } from "./ids.ts";

/** Why replay could not be exact. */
export type GapReason =
  /** Events after the client's id were dropped (size or TTL). */
  | "evicted"
  /** The id predates this history (e.g. before a restart). */
  | "unknown-id"
  /** The id is not an sse-hub id at all. */
  | "invalid-id";

/** The answer to "what did I miss?". */
export interface Replay {
  /** Events after the given id on the given channels, oldest first. */
  readonly events: readonly HubEvent[];
  /** Set when the events are not everything the client missed. */
  readonly gap?: GapReason;
}

/** Options for {@linkcode History}. */
export interface HistoryOptions {
  /** Maximum number of events kept; 0 keeps none. */
  readonly size: number;
  /** Events older than this many milliseconds are dropped; 0 keeps them forever. */
  readonly ttlMs?: number;
  /** Ids older than this predate the history: asking for them is a gap. */
  readonly floor: EventId;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** A ring buffer of events ordered by id. */
export class History {
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #ring: (HubEvent | undefined)[];
  readonly #ids: EventId[];
  #start = 0;
  #length = 0;
  /** Every event with an id above this one is still here (or was never made). */
  #coveredFrom: EventId;
  /** Why ids below {@linkcode History.#coveredFrom} cannot be replayed. */
  #uncoveredReason: GapReason = "unknown-id";

  constructor(options: HistoryOptions) {
    this.#size = options.size;
    this.#ttlMs = options.ttlMs ?? 0;
    this.#now = options.now ?? Date.now;
    this.#ring = new Array(options.size);
    this.#ids = new Array(options.size);
    this.#coveredFrom = options.floor;
  }

  /** Number of events held. */
  get length(): number {
    this.#expire();
    return this.#length;
  }

  /** Appends an event; its id must be newer than every id already held. */
  append(event: HubEvent): void {
    const id = event.id === undefined ? null : parseId(event.id);
    if (!id) return;
    if (this.#size === 0) {
      this.#coveredFrom = id;
      this.#uncoveredReason = "evicted";
      return;
    }
    this.#expire();
    if (this.#length === this.#size) this.#dropOldest();
    const slot = (this.#start + this.#length) % this.#size;
    this.#ring[slot] = event;
    this.#ids[slot] = id;
    this.#length++;
  }

  /** Events after `lastEventId` on any of `channels`, with a gap reason when some are gone. */
  since(lastEventId: string, channels: readonly string[]): Replay {
    this.#expire();
    const last = parseId(lastEventId);
    if (!last) {
      return { events: this.#matching(0, channels), gap: "invalid-id" };
    }
    const first = this.#firstAfter(last);
    const events = this.#matching(first, channels);
    if (compareParsed(last, this.#coveredFrom) >= 0) return { events };
    return { events, gap: this.#uncoveredReason };
  }

  /** Index (0 = oldest) of the first held event newer than `id`. */
  #firstAfter(id: EventId): number {
    let lo = 0;
    let hi = this.#length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const held = this.#ids[(this.#start + mid) % this.#size];
      if (compareParsed(held, id) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #matching(from: number, channels: readonly string[]): HubEvent[] {
    const out: HubEvent[] = [];
    for (let i = from; i < this.#length; i++) {
      const event = this.#ring[(this.#start + i) % this.#size]!;
      if (event.channels.some((c) => channels.includes(c))) out.push(event);
    }
    return out;
  }

  #dropOldest(): void {
    this.#coveredFrom = this.#ids[this.#start];
    this.#uncoveredReason = "evicted";
    this.#ring[this.#start] = undefined;
    this.#start = (this.#start + 1) % this.#size;
    this.#length--;
  }

  #expire(): void {
    if (this.#ttlMs <= 0) return;
    const cutoff = this.#now() - this.#ttlMs;
    while (
      this.#length > 0 && this.#ring[this.#start]!.publishedAt < cutoff
    ) {
      this.#dropOldest();
    }
  }

  /** The id from which replay is exact, for diagnostics. */
  get coveredFrom(): string {
    return formatId(this.#coveredFrom);
  }
}
