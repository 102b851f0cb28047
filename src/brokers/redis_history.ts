/**
 * Reading the Redis broker's per-channel history: each channel's stream
 * after an id, merged in id order, with the channels whose streams were
 * trimmed past that id. Replays and the catch-up after an outage both read
 * this way; {@linkcode replayHistory} adds the gap reasons a replay owes.
 *
 * @module
 */

import type { Redis } from "ioredis";
import { isClientChannel } from "../channels.ts";
import type { HubEvent } from "../event.ts";
import type { Gap, Replay } from "../history.ts";
import { compareIds, parseId } from "../ids.ts";
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

/**
 * What a client missed after `lastEventId` on `channels`, with the gaps:
 * `invalid-id`; `unknown-id` before Redis's data began, past the newest id,
 * or past a `client:` stream's lifetime; `evicted` for channels whose
 * streams were trimmed (or aged past `ttlMs`) beyond the id.
 */
export async function replayHistory(
  redis: Redis,
  keys: RedisKeys,
  channels: readonly string[],
  lastEventId: string,
  limits: { readonly ttlMs: number; readonly clientHistoryMs: number },
): Promise<Replay> {
  const parsed = parseId(lastEventId);
  const last = parsed ? lastEventId : undefined;
  const { events, evicted, floor, newest } = await readHistory(
    redis,
    keys,
    channels.map((channel) => ({ channel, after: last })),
    limits.ttlMs > 0 ? Date.now() - limits.ttlMs : 0,
  );
  if (!parsed) return { events, gaps: [{ reason: "invalid-id", channels }] };
  if (floor === null || compareIds(lastEventId, floor) < 0) {
    return { events, gaps: [{ reason: "unknown-id", channels }] };
  }
  if (newest !== null && compareIds(lastEventId, newest) > 0) {
    return { events: [], gaps: [{ reason: "unknown-id", channels }] };
  }
  // A client: channel's stream expires: past that, its history cannot tell.
  const expired = parsed.ms < Date.now() - limits.clientHistoryMs
    ? channels.filter(isClientChannel)
    : [];
  const gaps: Gap[] = expired.length > 0 ? [{ reason: "unknown-id", channels: expired }] : [];
  if (evicted.length > 0) gaps.push({ reason: "evicted", channels: evicted });
  return gaps.length > 0 ? { events, gaps } : { events };
}
