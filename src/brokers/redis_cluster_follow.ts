/**
 * Following each watched channel of a Redis Cluster without losing a copy:
 * the position handed on last, copies handed on in order, what pub/sub
 * dropped read back from the channel's stream, and a periodic comparison
 * with each channel's last position in Redis.
 *
 * Each copy carries the position before it (`prev`). A copy that follows
 * the last one handed on is handed on; one handed on already is dropped;
 * otherwise the channel's stream is read for what came between, and copies
 * that arrive meanwhile wait. A failover can also drop the last messages of
 * a channel, which no later copy reveals: the comparison finds those.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { START } from "../cursor.ts";
import type { HubEvent } from "../event.ts";
import { compareIds } from "../ids.ts";
import type { Outage } from "./outage.ts";
import type { ChannelRead } from "./redis_cluster_history.ts";

const log = getLogger(["sse-hub", "redis-cluster"]);

/** Pause between attempts to read a channel that Redis cannot serve yet. */
export const RETRY_MS = 200;
/** Every so often, each watched channel's last position is compared with the one handed on. */
const SWEEP_MS = 5000;
/** After trouble with the cluster, the comparison runs this often… */
const TROUBLE_SWEEP_MS = 500;
/** …for this long. */
const TROUBLE_MS = 15_000;

/** What the follower reads from Redis and hands copies to. */
export interface FollowerLinks {
  /** `channel`'s history after `after`. */
  read(channel: string, after: string): Promise<ChannelRead>;
  /** Each channel's last position in Redis (null: none). */
  lasts(channels: readonly string[]): Promise<(string | null)[]>;
  /** Hands a copy on (to the hub). */
  hand(copy: HubEvent): void;
  /** Events of `channel` after `position` may be lost: tell its subscribers. */
  lost(channel: string, position: string): void;
  /** Logs and counts the cluster's outages. */
  readonly outage: Outage;
}

/** A watched channel: the position handed on last, and copies held while its history is read. */
export interface Watch {
  position: string;
  reading?: { copy: HubEvent; prev: string }[];
}

/** The watched channels of one instance, each followed in order. */
export class ChannelFollower {
  readonly #links: FollowerLinks;
  readonly #watches = new Map<string, Watch>();
  #sweep: ReturnType<typeof setTimeout> | undefined;
  /** When the next comparison runs. */
  #sweepAt = 0;
  #troubleUntil = 0;
  #stopped = false;

  constructor(links: FollowerLinks) {
    this.#links = links;
  }

  /** Starts following `channel`: copies wait until {@linkcode ChannelFollower.from} says where it is. */
  begin(channel: string): Watch {
    const watch: Watch = { position: START, reading: [] };
    this.#watches.set(channel, watch);
    return watch;
  }

  /** Whether `watch` is still how `channel` is followed. */
  current(channel: string, watch: Watch): boolean {
    return this.#watches.get(channel) === watch && !this.#stopped;
  }

  /**
   * `channel` was at `position` before this instance listened: reads what
   * came since, then hands on the copies that waited.
   */
  async from(channel: string, watch: Watch, position: string | null): Promise<void> {
    watch.position = position ?? START;
    await this.#catchUp(channel, watch);
  }

  /** Stops following `channel`. */
  end(channel: string): void {
    this.#watches.delete(channel);
  }

  /** Whether `channel` is followed. */
  has(channel: string): boolean {
    return this.#watches.has(channel);
  }

  /** The position of the last copy of `channel` handed on. */
  position(channel: string): string | undefined {
    return this.#watches.get(channel)?.position;
  }

  /**
   * A live copy on `channel`: handed on when it follows the last one handed
   * on; dropped when handed on already; otherwise what came between is read
   * from the history first.
   */
  take(channel: string, copy: HubEvent, prev: string): void {
    const watch = this.#watches.get(channel);
    if (!watch) return;
    if (watch.reading) return void watch.reading.push({ copy, prev });
    if (compareIds(copy.id!, watch.position) <= 0) return;
    if (compareIds(prev, watch.position) <= 0) return this.#hand(watch, copy);
    watch.reading = [{ copy, prev }];
    void this.#catchUp(channel, watch);
  }

  /** Something went wrong with the cluster (`reason`, or "" for a change): compare often for a while. */
  trouble(reason: string): void {
    if (this.#stopped) return;
    if (reason) this.#links.outage.begin(reason);
    this.#troubleUntil = Date.now() + TROUBLE_MS;
    this.#schedule(TROUBLE_SWEEP_MS);
  }

  /** Starts the periodic comparison. */
  start(): void {
    this.#schedule(SWEEP_MS);
  }

  /** Stops everything; reads in flight give up. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#sweep);
  }

  #hand(watch: Watch, copy: HubEvent): void {
    watch.position = copy.id!;
    this.#links.hand(copy);
  }

  /**
   * Reads `channel`'s history after the position handed on and hands on what
   * is newer, then the copies held meanwhile; retries while the cluster
   * cannot answer. Redis having no state for a channel it had events on,
   * or a trimmed stream, means events were lost: its subscribers are told.
   */
  async #catchUp(channel: string, watch: Watch): Promise<void> {
    watch.reading ??= [];
    let handed = 0;
    while (this.current(channel, watch)) {
      try {
        const from = watch.position;
        const read = await this.#links.read(channel, from);
        if (!this.current(channel, watch)) return;
        const lost = from !== START &&
          (read.last === null || read.evicted ||
            (read.floor !== null && compareIds(from, read.floor) < 0));
        if (lost) {
          log.warning("events of {channel} were lost in Redis", { channel });
          this.#links.lost(channel, from);
          if (read.last === null) watch.position = START;
        }
        for (const copy of read.copies) {
          if (compareIds(copy.id!, watch.position) > 0) {
            this.#hand(watch, copy);
            handed++;
          }
        }
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    const held = watch.reading ?? [];
    watch.reading = undefined;
    if (handed > 0) log.debug("caught up {handed} events of {channel}", { handed, channel });
    for (const { copy, prev } of held) this.take(channel, copy, prev);
  }

  /** Runs the next comparison in `ms`, unless one is due sooner. */
  #schedule(ms: number): void {
    if (this.#sweep !== undefined && this.#sweepAt <= Date.now() + ms) return;
    clearTimeout(this.#sweep);
    this.#sweepAt = Date.now() + ms;
    this.#sweep = setTimeout(() => {
      this.#sweep = undefined;
      void this.#compare();
    }, ms);
  }

  /**
   * Compares each watched channel's last position in Redis with the one
   * handed on, and catches up those behind.
   */
  async #compare(): Promise<void> {
    if (this.#stopped) return;
    const channels = [...this.#watches.keys()];
    try {
      const lasts = await this.#links.lasts(channels);
      channels.forEach((channel, i) => {
        const watch = this.#watches.get(channel);
        if (!watch || watch.reading) return;
        const last = lasts[i];
        const behind = last === null
          ? watch.position !== START
          : compareIds(last, watch.position) > 0;
        if (behind) void this.#catchUp(channel, watch);
      });
      if (Date.now() > this.#troubleUntil) this.#links.outage.end(0);
    } catch {
      this.#troubleUntil = Math.max(this.#troubleUntil, Date.now() + TROUBLE_SWEEP_MS);
    }
    if (!this.#stopped) {
      this.#schedule(Date.now() < this.#troubleUntil ? TROUBLE_SWEEP_MS : SWEEP_MS);
    }
  }
}
