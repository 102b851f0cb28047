/**
 * Reading the Redis broker's per-channel history: each channel's stream
 * after an id, merged in id order, with the channels whose streams were
 * trimmed past that id. Replays and the catch-up after an outage both read
 * this way.
 *
 * @module
 */

import type { Redis } from "ioredis";
import type { HubEvent } from "../event.ts";
import { mergeById, type StreamEntry, toEvent, wasEvicted } from "./redis_codec.ts";
import type { RedisKeys } from "./redis_keys.ts";

/** One channel to read, after an id (from its start when undefined). */
export interface StreamRead {
  readonly channel: string;
  readonly after?: string;
}

/** What {@linkcode readHistory} found. */
export interface HistoryRead {
  /** The events after each channel's id, merged in id order, each once. */
  readonly events: HubEvent[];
  /** Channels whose stream lost entries after their id (trimmed, or older than `cutoffMs`). */
  readonly evicted: string[];
  /** The first id of Redis's current data, if any. */
  readonly floor: string | null;
  /** The last id Redis handed out, if any. */
  readonly newest: string | null;
}

type ExecResult = [Error | null, unknown][];

/**
 * Reads `reads` in one transaction; events published before `cutoffMs` (ms
 * since the epoch; 0 keeps all) are left out and count as evicted.
 */
export async function readHistory(
  redis: Redis,
  keys: RedisKeys,
  reads: readonly StreamRead[],
  cutoffMs = 0,
): Promise<HistoryRead> {
  const batch = redis.multi().get(keys.floor).get(keys.lastId);
  for (const { channel, after } of reads) {
    const key = keys.history(channel);
    batch.xrange(key, after ? `(${after}` : "-", "+").call("XINFO", "STREAM", key);
  }
  const results = (await batch.exec()) as ExecResult;
  const lists: HubEvent[][] = [];
  const evicted: string[] = [];
  reads.forEach(({ channel, after }, i) => {
    const [[error, entries], [, info]] = [results[2 + 2 * i], results[3 + 2 * i]];
    if (error) throw error;
    const all = (entries as StreamEntry[]).map(toEvent);
    const fresh = cutoffMs > 0 ? all.filter((event) => event.publishedAt >= cutoffMs) : all;
    lists.push(fresh);
    if (!after) return;
    if (fresh.length < all.length || (Array.isArray(info) && wasEvicted(info, after))) {
      evicted.push(channel);
    }
  });
  return {
    events: mergeById(lists),
    evicted,
    floor: results[0][1] as string | null,
    newest: results[1][1] as string | null,
  };
}
