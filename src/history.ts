/**
 * The in-memory replay history, kept per channel: the newest `size` events of
 * each channel (and none older than `ttlMs`), within a global bound on the
 * bytes all channels hold together. A reconnecting client gets exactly the
 * events after its `Last-Event-ID` on its channels, merged in id order, each
 * once — or a gap naming the channels whose history cannot say that.
 *
 * A busy channel therefore never evicts a quiet one's events; only the
 * global byte bound evicts across channels, oldest first, and what it drops
 * is reported like any other eviction.
 *
 * @example
 * ```ts
 * import { History } from "./history.ts";
 * import { createEvent } from "./event.ts";
 * const history = new History({ size: 1, floor: { ms: 0, seq: 0 } });
 * history.append(createEvent({ channels: ["quiet"], data: "q" }, "1-0"));
 * history.append(createEvent({ channels: ["busy"], data: "b1" }, "2-0"));
 * history.append(createEvent({ channels: ["busy"], data: "b2" }, "3-0"));
 * history.since("0-0", ["quiet"]).events.length; // 1: busy evicted only its own
 * history.since("1-0", ["busy"]).gaps; // [{ reason: "evicted", channels: ["busy"] }]
 * ```
 *
 * @module
 */

import type { HubEvent } from "./event.ts";
import { compareParsed, type EventId, parseId } from "./ids.ts";

/** Why a replay could not be exact. */
export type GapReason =
  /** Events of the channel after the client's id were dropped (size, TTL or memory bound). */
  | "evicted"
  /**
   * The history cannot tell: the id is older than what this history covers
   * (from before a restart, or before this instance watched the channel),
   * or newer than any id handed out yet.
   */
  | "unknown-id"
  /** The id is not an sse-hub id at all. */
  | "invalid-id";

/** Channels whose replay is incomplete, and why. */
export interface Gap {
  readonly reason: GapReason;
  readonly channels: readonly string[];
}

/** The answer to "what did I miss?". */
export interface Replay {
  /** Events after the given id on the given channels, oldest first, each once. */
  readonly events: readonly HubEvent[];
  /** Present when the events are not everything the client missed. */
  readonly gaps?: readonly Gap[];
  /**
   * Whether a live event that arrived while the replay was written is one
   * the replay already wrote; by default, when its id is not newer than the
   * last event replayed.
   */
  readonly covers?: (event: HubEvent) => boolean;
}

/** Options for {@linkcode History}. */
export interface HistoryOptions {
  /** Events kept per channel; 0 keeps none. */
  readonly size: number;
  /** Events older than this many milliseconds are dropped; 0 keeps them until pushed out. */
  readonly ttlMs?: number;
  /** Most bytes all channels' events may take together (approximate); 0 = no bound. */
  readonly maxBytes?: number;
  /** History is complete from this id on (for every channel not told otherwise). */
  readonly floor: EventId;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** Bookkeeping per stored event, shared by the logs of all its channels. */
interface Entry {
  /** Cleared once no channel holds the event, so its memory can go. */
  event: HubEvent | undefined;
  readonly id: EventId;
  readonly bytes: number;
  /** How many channel logs still hold it. */
  refs: number;
}

/** One channel's events in id order, and what it has lost. */
interface ChannelLog {
  readonly entries: Entry[];
  /** Index of the oldest entry still held. */
  head: number;
  /** The newest id this channel dropped, if any. */
  dropped?: EventId;
}

/** Rough bytes of one event held: its wire bytes, its data text and the objects around them. */
function sizeOf(event: HubEvent): number {
  return event.bytes.byteLength + event.data.length * 2 + 200;
}

/** Most channels whose own coverage is remembered (an AMQP instance: every channel it bound). */
const MAX_COVERAGES = 100_000;

/** Most channels remembered after their last event went (to report their evictions). */
const MAX_EMPTY_LOGS = 100_000;

/** Per-channel bounded logs over one global, byte-bounded order of events. */
export class History {
  readonly #size: number;
  readonly #ttlMs: number;
  readonly #maxBytes: number;
  readonly #now: () => number;
  /** History is complete from here on for channels with no coverage of their own. */
  #floor: EventId;
  /** Channels whose history starts later than the floor (watch start, outage). */
  readonly #coveredFrom = new Map<string, EventId>();
  readonly #logs = new Map<string, ChannelLog>();
  /** Channels whose log is empty, oldest first (bounded by MAX_EMPTY_LOGS). */
  readonly #empty = new Set<string>();
  /** The newest id dropped from a log that was then forgotten. */
  #forgotten: EventId | undefined;
  /** Every entry in id order (the global eviction order). */
  #order: Entry[] = [];
  #orderHead = 0;
  #liveEntries = 0;
  #bytes = 0;
  /** The newest id appended (or the floor). */
  #newest: EventId;

  constructor(options: HistoryOptions) {
    this.#size = options.size;
    this.#ttlMs = options.ttlMs ?? 0;
    this.#maxBytes = options.maxBytes ?? 0;
    this.#now = options.now ?? Date.now;
    this.#floor = options.floor;
    this.#newest = options.floor;
  }

  /** Number of distinct events held. */
  get length(): number {
    this.#expire();
    return this.#liveEntries;
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Declares `channel`'s history complete only from `id` on: an instance that
   * starts watching a channel, or comes back from a broker outage it could
   * not catch up from, says so; older ids then get `unknown-id`.
   */
  coverFrom(channel: string, id: EventId): void {
    this.#coveredFrom.delete(channel);
    this.#coveredFrom.set(channel, id);
    if (this.#coveredFrom.size <= MAX_COVERAGES) return;
    // Forget the oldest; what was forgotten counts as covered only from its
    // start on, for every channel without coverage of its own.
    const [oldest, from] = this.#coveredFrom.entries().next().value!;
    this.#coveredFrom.delete(oldest);
    if (compareParsed(from, this.#floor) > 0) this.#floor = from;
  }

  /** Appends an event to each of its channels' logs; out-of-order ids are placed in order. */
  append(event: HubEvent): void {
    const id = event.id === undefined ? null : parseId(event.id);
    if (!id) return;
    this.#expire();
    if (compareParsed(id, this.#newest) > 0) this.#newest = id;
    if (this.#size === 0) {
      for (const channel of event.channels) {
        markDropped(this.#log(channel), id);
        this.#rememberEmpty(channel);
      }
      return;
    }
    const entry: Entry = { event, id, bytes: sizeOf(event), refs: event.channels.length };
    this.#liveEntries++;
    this.#bytes += entry.bytes;
    insertOrdered(this.#order, this.#orderHead, entry);
    for (const channel of event.channels) {
      const log = this.#log(channel);
      insertOrdered(log.entries, log.head, entry);
      if (log.entries.length - log.head > this.#size) this.#dropHead(channel, log);
    }
    while (this.#maxBytes > 0 && this.#bytes > this.#maxBytes) this.#evictOldest();
    this.#compactOrder();
  }

  /** Events after `lastEventId` on any of `channels`, each once, with the gaps. */
  since(lastEventId: string, channels: readonly string[]): Replay {
    this.#expire();
    const last = parseId(lastEventId);
    if (!last) {
      return {
        events: this.#after(undefined, channels),
        gaps: [{ reason: "invalid-id", channels }],
      };
    }
    if (compareParsed(last, this.#newest) > 0) {
      return { events: [], gaps: [{ reason: "unknown-id", channels }] };
    }
    const unknown: string[] = [];
    const evicted: string[] = [];
    for (const channel of channels) {
      const covered = this.#coveredFrom.get(channel) ?? this.#floor;
      const dropped = this.#logs.get(channel)?.dropped ?? this.#forgotten;
      if (compareParsed(last, covered) < 0) unknown.push(channel);
      else if (dropped && compareParsed(dropped, last) > 0) evicted.push(channel);
    }
    const gaps: Gap[] = [];
    if (unknown.length > 0) gaps.push({ reason: "unknown-id", channels: unknown });
    if (evicted.length > 0) gaps.push({ reason: "evicted", channels: evicted });
    const events = this.#after(last, channels);
    return gaps.length > 0 ? { events, gaps } : { events };
  }

  /** Held events newer than `after` (all when undefined) on `channels`, merged in id order. */
  #after(after: EventId | undefined, channels: readonly string[]): HubEvent[] {
    const picked: Entry[] = [];
    for (const channel of channels) {
      const log = this.#logs.get(channel);
      if (!log) continue;
      let i = after ? firstAfter(log.entries, log.head, after) : log.head;
      for (; i < log.entries.length; i++) picked.push(log.entries[i]);
    }
    if (channels.length > 1) picked.sort((a, b) => compareParsed(a.id, b.id));
    const out: HubEvent[] = [];
    for (let i = 0; i < picked.length; i++) {
      if (i > 0 && picked[i] === picked[i - 1]) continue;
      out.push(picked[i].event!);
    }
    return out;
  }

  #log(channel: string): ChannelLog {
    let log = this.#logs.get(channel);
    if (!log) {
      log = { entries: [], head: 0 };
      this.#logs.set(channel, log);
    } else if (log.entries.length === log.head) {
      this.#empty.delete(channel);
    }
    return log;
  }

  /** Drops `log`'s oldest entry. */
  #dropHead(channel: string, log: ChannelLog): void {
    const entry = log.entries[log.head++];
    markDropped(log, entry.id);
    if (--entry.refs === 0) this.#release(entry);
    if (log.head === log.entries.length) {
      log.entries.length = 0;
      log.head = 0;
      this.#rememberEmpty(channel);
    } else if (log.head > 64 && log.head * 2 > log.entries.length) {
      log.entries.splice(0, log.head);
      log.head = 0;
    }
  }

  #release(entry: Entry): void {
    entry.event = undefined;
    this.#liveEntries--;
    this.#bytes -= entry.bytes;
  }

  /** Keeps an emptied log for its eviction mark, forgetting the oldest beyond the bound. */
  #rememberEmpty(channel: string): void {
    this.#empty.add(channel);
    if (this.#empty.size <= MAX_EMPTY_LOGS) return;
    const oldest = this.#empty.values().next().value!;
    this.#empty.delete(oldest);
    const dropped = this.#logs.get(oldest)?.dropped;
    this.#logs.delete(oldest);
    if (dropped && (!this.#forgotten || compareParsed(dropped, this.#forgotten) > 0)) {
      this.#forgotten = dropped;
    }
  }

  /** Evicts the globally oldest event held from every channel that holds it. */
  #evictOldest(): void {
    const entry = this.#order[this.#orderHead++];
    if (entry.refs === 0) return;
    for (const channel of entry.event!.channels) {
      const log = this.#logs.get(channel);
      if (log && log.entries[log.head] === entry) this.#dropHead(channel, log);
    }
  }

  #expire(): void {
    if (this.#ttlMs <= 0) return;
    const cutoff = this.#now() - this.#ttlMs;
    while (this.#orderHead < this.#order.length) {
      const entry = this.#order[this.#orderHead];
      if (entry.refs > 0 && entry.event!.publishedAt >= cutoff) break;
      this.#evictOldest();
    }
    this.#compactOrder();
  }

  /** Drops released entries from the global order once they outnumber the live ones. */
  #compactOrder(): void {
    // Compact once what was popped off the head, or released behind it,
    // outweighs what is live.
    const spent = this.#order.length - this.#liveEntries;
    if (this.#order.length < 1024 || spent < this.#liveEntries) return;
    this.#order = this.#order.slice(this.#orderHead).filter((entry) => entry.refs > 0);
    this.#orderHead = 0;
  }
}

/** Records that `log` dropped `id`, keeping the newest such id (ids may arrive out of order). */
function markDropped(log: ChannelLog, id: EventId): void {
  if (!log.dropped || compareParsed(id, log.dropped) > 0) log.dropped = id;
}

/** Index of the first entry (from `from`) whose id is newer than `id`. */
function firstAfter(entries: readonly Entry[], from: number, id: EventId): number {
  let lo = from;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareParsed(entries[mid].id, id) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Appends `entry`, moving it back past newer ones (ids arrive in order but for rare races). */
function insertOrdered(entries: Entry[], from: number, entry: Entry): void {
  let i = entries.length;
  while (i > from && compareParsed(entries[i - 1].id, entry.id) > 0) i--;
  if (i === entries.length) entries.push(entry);
  else entries.splice(i, 0, entry);
}
