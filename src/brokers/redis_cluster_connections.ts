/**
 * The Redis Cluster broker's seeds, connections and its one Lua script. Each
 * channel's keys and pub/sub channel share the hash tag `{<channel>}`, so
 * the script that stores and fans out an event runs on that channel's shard
 * alone, and its `SPUBLISH` travels only within that shard.
 *
 * @module
 */

import { type ChainableCommander, Cluster, type ClusterNode } from "ioredis";
import type { ClusterSeeds } from "./redis_cluster_seeds.ts";
import { COMMAND_TIMEOUT_MS, NEXT_ID_FUNCTION } from "./redis_connections.ts";

/**
 * Stores one channel's copy of an event and fans it out on the channel's
 * shard, in one atomic step. Its id is the channel's position: above the
 * channel's last one, from the shard's clock. The copy published carries the
 * position before it (`prev`), so an instance that sees a copy whose `prev`
 * is not the last one it has knows it missed some and reads them.
 */
// KEYS: the channel's state hash (fields last, floor), its history stream.
// ARGV: max length, min id ("" = no TTL), channels (JSON), event ("" = none),
// data, retry ("" = none), expiry of client: channels in ms ("" = none),
// the events shard channel.
export const CLUSTER_PUBLISH_SCRIPT = `${NEXT_ID_FUNCTION}
local prev = redis.call('HGET', KEYS[1], 'last')
local id = next_id(prev)
redis.call('HSET', KEYS[1], 'last', id)
redis.call('HSETNX', KEYS[1], 'floor', id)
local head, extra = id .. ' ' .. (prev or '0-0'), {}
if ARGV[6] ~= '' then head, extra = head .. ' ' .. ARGV[6], { 'r', ARGV[6] } end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], id, 'c', ARGV[3], 'e', ARGV[4], 'd', ARGV[5], unpack(extra))
if ARGV[2] ~= '' then redis.call('XTRIM', KEYS[2], 'MINID', '~', ARGV[2]) end
if ARGV[7] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
end
redis.call('SPUBLISH', ARGV[8], head .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[5])
return id
`;

/** A pipeline on the broker's cluster connection, with its script. */
export type ScriptedPipeline = ChainableCommander & {
  sseHubPublish(...args: (string | number)[]): ScriptedPipeline;
};

/** The commands the broker defines on its cluster connection. */
export interface ScriptedCluster extends Cluster {
  sseHubPublish(...args: (string | number)[]): Promise<string>;
  pipeline(): ScriptedPipeline;
}

/**
 * The broker's two cluster clients, not yet connected: one for commands
 * (scripts, reads), one for pub/sub (sharded subscriptions to each
 * channel's shard, and the control channel).
 */
export function clusterConnections(
  seeds: ClusterSeeds,
): { commands: ScriptedCluster; subscriber: Cluster } {
  const startup: ClusterNode[] = seeds.nodes.map(({ host, port }) => ({ host, port }));
  const redisOptions = {
    ...(seeds.username ? { username: seeds.username } : {}),
    ...(seeds.password ? { password: seeds.password } : {}),
    ...(seeds.tls ? { tls: {} } : {}),
    commandTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
  };
  const common = {
    lazyConnect: true,
    redisOptions,
    clusterRetryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
    // Let a command ride out a failover (a replica takes ~2 s to be promoted
    // with a 1 s node timeout) instead of failing after ioredis's default
    // ~1.2 s of redirections. CLUSTERDOWN and TRYAGAIN say the command did
    // not run; a closed connection does not (see `commands` below), so only
    // the subscriber's idempotent (un)subscribes are resent after one.
    retryDelayOnFailover: 300,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 300,
    maxRedirections: 32,
  };
  const commands = new Cluster(startup, {
    ...common,
    // Never resend a command whose connection closed: it may have run (a
    // master killed after running a publish script, with the write already
    // on the replica it promotes), and ioredis would run it again there — a
    // publish delivered twice (seen in the fault test). The command fails
    // instead: a publish answers 503 ("may or may not be delivered"), reads
    // are asked again by their callers (replay, following).
    retryDelayOnFailover: 0,
    enableOfflineQueue: true,
    // Many small commands at once (a publish per channel, a comparison of
    // every watched channel): one round trip per node.
    enableAutoPipelining: true,
    redisOptions: { ...redisOptions, connectionName: "sse-hub" },
  }) as ScriptedCluster;
  commands.defineCommand("sseHubPublish", { numberOfKeys: 2, lua: CLUSTER_PUBLISH_SCRIPT });
  const subscriber = new Cluster(startup, {
    ...common,
    enableOfflineQueue: true,
    shardedSubscribers: true,
    redisOptions: { ...redisOptions, connectionName: "sse-hub-subscriber" },
  });
  return { commands, subscriber };
}
