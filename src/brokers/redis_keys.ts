/**
 * Where sse-hub keeps things in Redis. Each SSE channel's history stream and
 * events channel carry the hash tag `{<channel>}`, so a Redis Cluster keeps
 * them in one slot and one script can touch both; docs/scaling.md has the
 * whole layout.
 *
 * @module
 */

import type { RedisFormat } from "./tornado_payload.ts";

/**
 * How long a `client:` channel's history lives after its last message.
 * Tokens come and go with connections; their streams must not pile up.
 */
export const CLIENT_HISTORY_MS = 3_600_000;

/** What both Redis brokers (one Redis, a cluster) take besides where Redis is. */
export interface RedisStoreOptions {
  /** Prepended to every Redis key and channel sse-hub uses. */
  readonly prefix: string;
  /** Stream entries kept per channel (approximately: Redis trims whole nodes). */
  readonly historySize: number;
  /** Replay window in milliseconds; 0 means no time limit. */
  readonly historyTtlMs: number;
  /** How raw messages are read: verbatim (cyclone-sse) or tornado-sse arrays; default raw. */
  readonly format?: RedisFormat;
}

/** The Redis keys and channels sse-hub uses, under `prefix`. */
export interface RedisKeys {
  /** The history stream of an SSE channel. */
  history(channel: string): string;
  /** An SSE channel's state in a cluster: a hash with its last and first ids (`last`, `floor`). */
  channelState(channel: string): string;
  /** The pub/sub channel sse-hub's own events of an SSE channel travel on. */
  events(channel: string): string;
  /** What every {@linkcode RedisKeys.events} channel starts with. */
  readonly eventsPrefix: string;
  /** The pub/sub channel raw messages for an SSE channel come in on (cyclone-sse). */
  raw(channel: string): string;
  /** The last id handed out. */
  readonly lastId: string;
  /** The oldest id this Redis's data covers; a new floor means Redis lost its data. */
  readonly floor: string;
  /** Control commands between instances. */
  readonly control: string;
  /** A client token told to stop. */
  stop(client: string): string;
}

/**
 * The key layout under `prefix`: each channel's keys carry the hash tag
 * `{<channel>}`, so a Redis Cluster keeps them in one slot.
 *
 * @example
 * ```ts
 * import { redisKeys } from "./redis_keys.ts";
 * redisKeys("app:").history("news"); // "app:sse-hub:history:{news}"
 * ```
 */
export function redisKeys(prefix: string): RedisKeys {
  return {
    history: (channel) => `${prefix}sse-hub:history:{${channel}}`,
    channelState: (channel) => `${prefix}sse-hub:channel:{${channel}}`,
    events: (channel) => `${prefix}sse-hub:events:{${channel}}`,
    eventsPrefix: `${prefix}sse-hub:events:{`,
    raw: (channel) => `${prefix}${channel}`,
    lastId: `${prefix}sse-hub:last-id`,
    floor: `${prefix}sse-hub:floor`,
    control: `${prefix}sse-hub:control`,
    stop: (client) => `${prefix}sse-hub:stop:${client}`,
  };
}
