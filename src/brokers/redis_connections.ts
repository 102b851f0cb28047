/**
 * The Redis broker's two connections and the Lua scripts they run. Ids come from Redis's own clock
 * inside the script that stores the event, so one order covers every event
 * of every channel, whichever instance published it.
 *
 * @module
 */

import { Redis } from "ioredis";

/**
 * Lua: `next_id(last)` is the id after `last` (or false): Redis's clock in
 * ms, or `last`'s ms with the next sequence number when the clock has not
 * moved past it.
 */
export const NEXT_ID_FUNCTION = `
local function next_id(last)
  local t = redis.call('TIME')
  local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local seq = 0
  if last then
    local dash = string.find(last, '-', 1, true)
    local lms = tonumber(string.sub(last, 1, dash - 1))
    if ms <= lms then
      ms = lms
      seq = tonumber(string.sub(last, dash + 1)) + 1
    end
  end
  return string.format('%d-%d', ms, seq)
end
`;

const NEXT_ID = `${NEXT_ID_FUNCTION}
local id = next_id(redis.call('GET', KEYS[1]))
`;

/**
 * Assigns an event its id, appends it to each channel's history stream and
 * publishes it on each channel's events channel, in one atomic step.
 */
// KEYS: last id, floor, then per channel: history stream, events channel.
// ARGV: max length, min id ("" = no TTL), channels (JSON), event ("" = none), data,
// retry ("" = none; it follows the id on the envelope's first line, field r),
// the history-key prefix of client: channels, and how long (ms) their streams live.
export const PUBLISH_SCRIPT = `${NEXT_ID}
redis.call('SET', KEYS[1], id)
redis.call('SET', KEYS[2], id, 'NX')
local head, extra = id, {}
if ARGV[6] ~= '' then head, extra = id .. ' ' .. ARGV[6], { 'r', ARGV[6] } end
local envelope = head .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[5]
for i = 3, #KEYS, 2 do
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], id, 'c', ARGV[3], 'e', ARGV[4], 'd', ARGV[5], unpack(extra))
  if ARGV[2] ~= '' then redis.call('XTRIM', KEYS[i], 'MINID', '~', ARGV[2]) end
  if string.sub(KEYS[i], 1, #ARGV[7]) == ARGV[7] then redis.call('PEXPIRE', KEYS[i], ARGV[8]) end
  redis.call('PUBLISH', KEYS[i + 1], envelope)
end
return id
`;

/** Reads (and on a fresh or wiped Redis, sets) the floor of Redis's data. */
// KEYS: floor, last id. Sets the floor when Redis has none (fresh, or lost
// its data) and returns { floor, last id or false }.
export const FLOOR_SCRIPT = `
local t = redis.call('TIME')
local id = string.format('%d-0', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
redis.call('SET', KEYS[1], id, 'NX')
return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) }
`;

/** How long one Redis command may take before it is failed. */
export const COMMAND_TIMEOUT_MS = 3000;

/** The commands the broker defines on its command connection. */
export interface ScriptedRedis extends Redis {
  sseHubPublish(...args: (string | number)[]): Promise<string>;
  sseHubFloor(floorKey: string, lastIdKey: string): Promise<[string, string | null]>;
}

/**
 * The broker's connections to `url`, not yet connected. Commands fail at
 * once while disconnected (publish answers 503); the subscriber queues its
 * SUBSCRIBEs and does not resubscribe by itself: after a reconnect the
 * broker resubscribes, then catches up from the history.
 */
export function redisConnections(url: string): { commands: ScriptedRedis; subscriber: Redis } {
  const common = {
    lazyConnect: true,
    commandTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    maxRetriesPerRequest: 0,
  };
  const commands = new Redis(url, {
    ...common,
    enableOfflineQueue: false,
    connectionName: "sse-hub",
  }) as ScriptedRedis;
  commands.defineCommand("sseHubPublish", { lua: PUBLISH_SCRIPT });
  commands.defineCommand("sseHubFloor", { numberOfKeys: 2, lua: FLOOR_SCRIPT });
  const subscriber = new Redis(url, {
    ...common,
    enableOfflineQueue: true,
    autoResubscribe: false,
    connectionName: "sse-hub-subscriber",
  });
  return { commands, subscriber };
}
