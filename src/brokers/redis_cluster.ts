/**
 * The Redis Cluster broker: instances share a Redis Cluster, and publish
 * capacity grows with its shards.
 *
 * - **A channel lives on one shard.** Its state, history stream and pub/sub
 *   channel share the hash tag `{<channel>}`; one script on that shard gives
 *   the event the channel's next position, stores it and `SPUBLISH`es it, so
 *   the message travels only within the shard (sharded pub/sub, Redis ≥ 7).
 *   A publish to several channels runs that script once per channel: atomic
 *   per channel.
 * - **Order per channel, compound cursors.** Shards share no clock, so
 *   events are ordered per channel, and each stream's `id:` is the position
 *   of every channel of the connection (src/cursor.ts): replay is exact on
 *   any instance.
 * - **Nothing silently lost** (redis_cluster_follow.ts). Each copy carries the position before it; an
 *   instance that sees one whose predecessor it has not handed on reads the
 *   channel's history for what it missed (a failover drops pub/sub
 *   messages). After any trouble with the cluster, and every few seconds
 *   anyway, it compares each watched channel's last position with its own.
 *   A publish is answered only once a replica has the event when the shard
 *   has one, so a failover cannot take back an event answered 200. A
 *   channel whose data is gone gets an `interrupted` gap event.
 * - **Raw messages** (`SPUBLISH news hi`, or `PUBLISH news hi` across the
 *   cluster, as with cyclone-sse) are delivered verbatim, live, without id.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import calculateSlot from "cluster-key-slot";
import type { Cluster } from "ioredis";
import { CLIENT_PREFIX, isClientChannel } from "../channels.ts";
import { UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import type { Replay } from "../history.ts";
import type { Broker, BrokerSink, Control, PublishResult } from "./broker.ts";
import { Echoes } from "./echoes.ts";
import { Outage } from "./outage.ts";
import { parseChannelEnvelope } from "./redis_codec.ts";
import { clusterConnections, type ScriptedCluster } from "./redis_cluster_connections.ts";
import type { ClusterSeeds } from "./redis_cluster_seeds.ts";
import { ChannelFollower, RETRY_MS } from "./redis_cluster_follow.ts";
import { readChannel, replayChannels } from "./redis_cluster_history.ts";
import {
  CLIENT_HISTORY_MS,
  type RedisKeys,
  redisKeys,
  type RedisStoreOptions,
} from "./redis_keys.ts";
import { rawPayloadReader } from "./tornado_payload.ts";

const log = getLogger(["sse-hub", "redis-cluster"]);

/** How long a publish waits to see its own event come back to count local deliveries. */
const ECHO_TIMEOUT_MS = 2000;
/** How long a publish waits for a replica to have the event. */
const REPLICA_WAIT_MS = 1000;

/** Options for {@linkcode RedisClusterBroker}. */
export interface RedisClusterBrokerOptions extends RedisStoreOptions {
  /** Seed nodes, credentials and TLS. */
  readonly seeds: ClusterSeeds;
}

/** Shares events between instances through a Redis Cluster, ordered per channel. */
export class RedisClusterBroker implements Broker {
  readonly kind = "redis-cluster";
  readonly #options: RedisClusterBrokerOptions;
  readonly #keys: RedisKeys;
  readonly #commands: ScriptedCluster;
  readonly #subscriber: Cluster;
  readonly #echoes = new Echoes(ECHO_TIMEOUT_MS, 0);
  readonly #readRaw: ReturnType<typeof rawPayloadReader>;
  readonly #follower: ChannelFollower;
  #sink: BrokerSink | undefined;
  #started = false;
  readonly #outage = new Outage(log, "Redis Cluster");

  constructor(options: RedisClusterBrokerOptions) {
    this.#options = options;
    this.#keys = redisKeys(options.prefix);
    this.#readRaw = rawPayloadReader(options.format ?? "raw");
    ({ commands: this.#commands, subscriber: this.#subscriber } = clusterConnections(
      options.seeds,
    ));
    const state = (channel: string) => this.#keys.channelState(channel);
    this.#follower = new ChannelFollower({
      read: (channel, after) => readChannel(this.#commands, this.#keys, channel, after),
      lasts: (channels) =>
        Promise.all(channels.map((channel) => this.#commands.hget(state(channel), "last"))),
      hand: (copy) => this.#echoes.settle(echoKey(copy.id!, copy.channel!), this.#deliver(copy)),
      lost: (channel, position) => this.#sink?.interrupted([channel], position),
      outage: this.#outage,
    });
  }

  /** True while the cluster client is connected. */
  get ready(): boolean {
    return this.#commands.status === "ready";
  }

  async start(sink: BrokerSink): Promise<void> {
    this.#sink = sink;
    for (const connection of [this.#commands, this.#subscriber]) {
      // Before the start settles, its failure says it all.
      const trouble = (reason: string) => this.#started && this.#follower.trouble(reason);
      connection.on("error", (error: Error) => trouble(error.message));
      connection.on("node error", (error: Error) => trouble(error.message));
      connection.on("-node", () => trouble("a node left"));
      connection.on("+node", () => trouble(""));
      connection.on("ready", () => trouble(""));
    }
    try {
      await Promise.all([this.#commands.connect(), this.#subscriber.connect()]);
      await this.#subscriber.subscribe(this.#keys.control);
    } catch (error) {
      this.#commands.disconnect();
      this.#subscriber.disconnect();
      const seeds = this.#options.seeds.nodes.map(({ host, port }) => `${host}:${port}`);
      throw new Error(
        `cannot connect to the Redis Cluster at ${seeds.join(",")}: ${
          (error as Error).message
        }; check --redis-cluster and that the cluster is up (CLUSTER INFO: cluster_state:ok)`,
      );
    }
    this.#subscriber.on("smessage", (channel: string, message: string) => {
      this.#onShardMessage(channel, message);
    });
    this.#subscriber.on("message", (channel: string, message: string) => {
      this.#onMessage(channel, message);
    });
    this.#started = true;
    this.#follower.start();
  }

  async publish(message: Message): Promise<PublishResult> {
    const positions = await Promise.all(
      message.channels.map((channel) => this.#publishTo(channel, message)),
    );
    const counts = await Promise.all(
      message.channels.map((channel, i) =>
        this.#follower.has(channel) ? this.#echoes.expect(echoKey(positions[i], channel)) : 0
      ),
    );
    const id = message.channels.map((channel, i) =>
      `${positions[i]}@${encodeURIComponent(channel)}`
    )
      .join(",");
    return { id, delivered: counts.reduce((sum, count) => sum + count, 0) };
  }

  async replay(
    channels: readonly string[],
    lastEventId: string,
    cursorChannels: readonly string[] = channels,
  ): Promise<Replay> {
    try {
      return await replayChannels(
        this.#commands,
        this.#keys,
        channels,
        lastEventId,
        cursorChannels,
        { ttlMs: this.#options.historyTtlMs, position: (channel) => this.position(channel) },
      );
    } catch (error) {
      this.#outage.replaysFailed++;
      throw new UnavailableError(
        `the Redis Cluster could not replay: ${(error as Error).message}; replay later`,
      );
    }
  }

  position(channel: string): string | undefined {
    return this.#follower.position(channel);
  }

  async watch(channel: string): Promise<void> {
    const watch = this.#follower.begin(channel);
    let last: string | null = null;
    for (let attempt = 0;; attempt++) {
      if (!this.#follower.current(channel, watch)) return;
      try {
        // Where the channel is now, then listen, then read what came between.
        last = await this.#commands.hget(this.#keys.channelState(channel), "last");
        // One call per name: they may hash to different slots.
        for (const name of this.#shardChannels(channel)) await this.#subscriber.ssubscribe(name);
        if (!isClientChannel(channel)) await this.#subscriber.subscribe(this.#keys.raw(channel));
        break;
      } catch (error) {
        log[attempt === 0 ? "warning" : "debug"]("cannot subscribe to {channel}: {error}", {
          channel,
          error: (error as Error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    await this.#follower.from(channel, watch, last);
  }

  unwatch(channel: string): void {
    this.#follower.end(channel);
    for (const name of this.#shardChannels(channel)) {
      this.#subscriber.sunsubscribe(name).catch(() => {});
    }
    if (!isClientChannel(channel)) {
      this.#subscriber.unsubscribe(this.#keys.raw(channel)).catch(() => {});
    }
  }

  async broadcast(command: Control): Promise<void> {
    try {
      if (command.client !== undefined && command.stopMs !== undefined) {
        await this.#commands.set(
          this.#keys.stop(command.client),
          "1",
          "PX",
          Math.max(1, command.stopMs),
        );
      }
      await this.#commands.publish(this.#keys.control, JSON.stringify(command));
    } catch (error) {
      throw new UnavailableError(
        `the Redis Cluster did not take the command: ${(error as Error).message}; retry later`,
      );
    }
  }

  async isStopped(client: string): Promise<boolean> {
    if (!this.ready) return false;
    return (await this.#commands.exists(this.#keys.stop(client)).catch(() => 0)) === 1;
  }

  async close(): Promise<void> {
    this.#follower.stop();
    this.#echoes.cancel();
    this.#commands.disconnect();
    this.#subscriber.disconnect();
    await Promise.resolve();
  }

  /** Stores and fans out `message`'s copy on `channel`; resolves with its position once safe. */
  async #publishTo(channel: string, message: Message): Promise<string> {
    const { historySize, historyTtlMs } = this.#options;
    const client = channel.startsWith(CLIENT_PREFIX);
    try {
      const key = this.#keys.history(channel);
      // A slot with a replica answers only once the replica has the event: a
      // failover then cannot take back what was answered 200.
      const safe = this.#hasReplica(key);
      let batch = this.#commands.pipeline().sseHubPublish(
        this.#keys.channelState(channel),
        key,
        historySize,
        historyTtlMs > 0 ? String(Date.now() - historyTtlMs) : "",
        JSON.stringify(message.channels),
        message.event ?? "",
        message.data,
        message.retry ?? "",
        client ? CLIENT_HISTORY_MS : "",
        this.#keys.events(channel),
      );
      if (safe) batch = batch.call("WAIT", 1, REPLICA_WAIT_MS) as typeof batch;
      const [[scriptError, position], [, acked] = [null, 1]] = (await batch.exec()) as [
        Error | null,
        unknown,
      ][];
      if (scriptError) throw scriptError;
      if (acked === 0) {
        throw new Error(`no replica confirmed the event within ${REPLICA_WAIT_MS} ms`);
      }
      return position as string;
    } catch (error) {
      this.#outage.refused++;
      throw new UnavailableError(
        `the Redis Cluster did not take the message for ${JSON.stringify(channel)}: ${
          (error as Error).message
        }; it may or may not be delivered; retry later`,
      );
    }
  }

  /** Whether the master serving `key`'s slot has a replica, as the client last saw the cluster. */
  #hasReplica(key: string): boolean {
    // The client's slot table: [master, ...replicas] per slot.
    return (this.#commands.slots[calculateSlot(key)]?.length ?? 0) > 1;
  }

  /** The shard channels carrying `channel`'s events: sse-hub's own, and raw ones. */
  #shardChannels(channel: string): string[] {
    const names = [this.#keys.events(channel)];
    if (!isClientChannel(channel)) names.push(this.#keys.raw(channel));
    return names;
  }

  #onShardMessage(shardChannel: string, message: string): void {
    if (!shardChannel.startsWith(this.#keys.eventsPrefix)) {
      return this.#onMessage(shardChannel, message);
    }
    const channel = shardChannel.slice(this.#keys.eventsPrefix.length, -1);
    const parsed = parseChannelEnvelope(message, channel);
    if (!parsed) return log.warning("ignored a malformed message on {channel}", { channel });
    this.#follower.take(channel, parsed.copy, parsed.prev);
  }

  /** Control commands, and raw messages (`PUBLISH`/`SPUBLISH` by others). */
  #onMessage(redisChannel: string, message: string): void {
    if (redisChannel === this.#keys.control) {
      try {
        return this.#sink?.control(JSON.parse(message) as Control);
      } catch {
        return log.warning("ignored a malformed control message");
      }
    }
    const name = redisChannel.slice(this.#options.prefix.length);
    if (!this.#follower.has(name)) return;
    this.#deliver(
      createEvent({ channels: [name], ...this.#readRaw(name, message) }, undefined),
    );
  }

  #deliver(event: HubEvent): number {
    return this.#sink?.deliver(event) ?? 0;
  }
}

/** What a publish waits for: its copy on `channel` coming back. */
function echoKey(position: string, channel: string): string {
  return `${position}@${channel}`;
}
