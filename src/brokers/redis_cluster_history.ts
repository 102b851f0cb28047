/**
 * Reading a channel's history in a Redis Cluster, where each channel keeps
 * its own order on its own shard: one channel at a time (one transaction
 * on its slot), and replays over several channels by compound cursor
 * (src/cursor.ts).
 *
 * @module
 */

import type { Cluster } from "ioredis";
import { cursorChannels, formatCursor, parseCursor, START, takesFrom } from "../cursor.ts";
import { encodeIdEnd } from "../encode.ts";
import type { HubEvent } from "../event.ts";
import type { Gap, Replay } from "../history.ts";
import { compareIds, parseId } from "../ids.ts";
import { type StreamEntry, toChannelEvent, wasEvicted } from "./redis_codec.ts";
import type { RedisKeys } from "./redis_keys.ts";

/** What {@linkcode readChannel} found. */
export interface ChannelRead {
  /** The copies after the position, oldest first. */
  readonly copies: HubEvent[];
  /** Whether the stream lost entries after the position (trimmed, or older than the cutoff). */
  readonly evicted: boolean;
  /** The channel's last position, null when Redis has no state for it (never published, or lost). */
  readonly last: string | null;
  /** The first position Redis's data holds for the channel. */
  readonly floor: string | null;
}

type ExecResult = [Error | null, unknown][];

/**
 * `channel`'s history after `after`, in one transaction on its slot; copies
 * published before `cutoffMs` (0 keeps all) are left out and count as evicted.
 */
export async function readChannel(
  redis: Cluster,
  keys: RedisKeys,
  channel: string,
  after: string,
  cutoffMs = 0,
): Promise<ChannelRead> {
  const stream = keys.history(channel);
  const results = (await redis.multi()
    .hmget(keys.channelState(channel), "last", "floor")
    .xrange(stream, after === START ? "-" : `(${after}`, "+")
    .call("XINFO", "STREAM", stream)
    .exec()) as ExecResult;
  const [[stateError, state], [rangeError, entries], [, info]] = results;
  if (stateError) throw stateError;
  if (rangeError) throw rangeError;
  const all = (entries as StreamEntry[]).map((entry) => toChannelEvent(entry, channel));
  const copies = cutoffMs > 0 ? all.filter((copy) => copy.publishedAt >= cutoffMs) : all;
  const [last, floor] = state as [string | null, string | null];
  return {
    copies,
    evicted: copies.length < all.length ||
      (after !== START && Array.isArray(info) && wasEvicted(info, after)),
    last,
    floor,
  };
}

/** Limits a replay applies. */
export interface ReplayLimits {
  /** Replay window in ms; 0 means none. */
  readonly ttlMs: number;
  /** The current position of a channel this instance delivers (for channels new to the cursor). */
  readonly position: (channel: string) => string | undefined;
}

/**
 * What a client missed after its compound cursor `lastEventId` on
 * `channels`: each channel read after its own position, merged by
 * position, each event once (from the first of its channels the connection
 * is on), each written with the connection's cursor over `allChannels`
 * after it. Gaps: `invalid-id` for an id that is not a cursor; `unknown-id`
 * for channels the cursor does not hold, positions older than the
 * channel's data or newer than its last; `evicted` where the stream was
 * trimmed past the position.
 */
export async function replayChannels(
  redis: Cluster,
  keys: RedisKeys,
  channels: readonly string[],
  lastEventId: string,
  allChannels: readonly string[],
  limits: ReplayLimits,
): Promise<Replay> {
  const cursor = parseCursor(lastEventId);
  if (!cursor) {
    // A plain id (from a single Redis) orders nothing here; anything else is no id at all.
    const reason = parseId(lastEventId) ? "unknown-id" : "invalid-id";
    return { events: [], gaps: [{ reason, channels }] };
  }
  const unknown = channels.filter((channel) => !cursor.has(channel));
  const known = channels.filter((channel) => cursor.has(channel));
  // The cursor as the connection's stream goes: channels not replayed stay at
  // their live position (read now, before live copies move it on).
  const order = cursorChannels(allChannels);
  const at = new Map<string, string>();
  for (const channel of order) {
    at.set(
      channel,
      (known.includes(channel) ? cursor.get(channel) : limits.position(channel)) ?? START,
    );
  }
  const cutoff = limits.ttlMs > 0 ? Date.now() - limits.ttlMs : 0;
  const reads = await Promise.all(
    known.map((channel) => readChannel(redis, keys, channel, cursor.get(channel)!, cutoff)),
  );
  const evicted: string[] = [];
  const copies: HubEvent[] = [];
  known.forEach((channel, i) => {
    const { last, floor } = reads[i];
    const from = cursor.get(channel)!;
    const lost = from !== START &&
      (last === null || compareIds(from, last) > 0 ||
        (floor !== null && compareIds(from, floor) < 0));
    if (lost) {
      unknown.push(channel);
      return at.set(channel, limits.position(channel) ?? START);
    }
    if (reads[i].evicted) evicted.push(channel);
    copies.push(...reads[i].copies);
  });
  copies.sort((a, b) => compareIds(a.id!, b.id!));
  const replayed = new Set(known.filter((channel) => !unknown.includes(channel)));
  const events: HubEvent[] = [];
  for (const copy of copies) {
    at.set(copy.channel!, copy.id!);
    if (!takesFrom(allChannels, copy.channels, copy.channel!)) continue;
    events.push({ ...copy, bytes: encodeIdEnd(copy.bytes, formatCursor(order, (c) => at.get(c))) });
  }
  const gaps: Gap[] = [];
  if (unknown.length > 0) gaps.push({ reason: "unknown-id", channels: unknown });
  if (evicted.length > 0) gaps.push({ reason: "evicted", channels: evicted });
  return {
    events,
    ...(gaps.length > 0 ? { gaps } : {}),
    // Live copies of channels that were not replayed are all new to the client.
    covers: (event) =>
      event.channel !== undefined && replayed.has(event.channel) &&
      compareIds(event.id!, at.get(event.channel)!) <= 0,
  };
}
