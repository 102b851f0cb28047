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
 * - **Nothing silently lost.** Each copy carries the position before it; an
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
import { START } from "../cursor.ts";
import { UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import type { Replay } from "../history.ts";
import { compareIds } from "../ids.ts";
import type { Broker, BrokerSink, Control, PublishResult } from "./broker.ts";
import { Echoes } from "./echoes.ts";
import { Outage } from "./outage.ts";
import { parseChannelEnvelope } from "./redis_codec.ts";
import { clusterConnections, type ScriptedCluster } from "./redis_cluster_connections.ts";
import type { ClusterSeeds } from "./redis_cluster_seeds.ts";
import { readChannel, replayChannels } from "./redis_cluster_history.ts";
import { type RedisKeys, redisKeys } from "./redis_keys.ts";
import { rawPayloadReader, type RedisFormat } from "./tornado_payload.ts";

const log = getLogger(["sse-hub", "redis-cluster"]);

/** How long a publish waits to see its own event come back to count local deliveries. */
const ECHO_TIMEOUT_MS = 2000;
/** How long a `client:` channel's state and stream live after its last message. */
const CLIENT_HISTORY_MS = 3_600_000;
/** How long a publish waits for a replica to have the event. */
const REPLICA_WAIT_MS = 1000;
/** Pause between attempts to read a channel that Redis cannot serve yet. */
const RETRY_MS = 200;
/** Every so often, each watched channel's last position is compared with the one handed on. */
const SWEEP_MS = 5000;
/** After trouble with the cluster, the comparison runs this often… */
const TROUBLE_SWEEP_MS = 500;
/** …for this long. */
const TROUBLE_MS = 15_000;

/** Options for {@linkcode RedisClusterBroker}. */
export interface RedisClusterBrokerOptions {
  /** Seed nodes, credentials and TLS. */
  readonly seeds: ClusterSeeds;
  /** Prepended to every Redis key and channel sse-hub uses. */
  readonly prefix: string;
  /** Stream entries kept per channel (approximately). */
  readonly historySize: number;
  /** Replay window in milliseconds; 0 means no time limit. */
  readonly historyTtlMs: number;
  /** How raw messages are read; default raw. */
  readonly format?: RedisFormat;
}

/** A watched channel: the position handed on last, and copies held while its history is read. */
interface Watch {
  position: string;
  reading?: { copy: HubEvent; prev: string }[];
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
  readonly #watches = new Map<string, Watch>();
  #sink: BrokerSink | undefined;
  #sweep: ReturnType<typeof setTimeout> | undefined;
  /** When the next comparison runs. */
  #sweepAt = 0;
  #troubleUntil = 0;
  #started = false;
  #closed = false;
  readonly #outage = new Outage(log, "Redis Cluster");

  constructor(options: RedisClusterBrokerOptions) {
    this.#options = options;
    this.#keys = redisKeys(options.prefix);
    this.#readRaw = rawPayloadReader(options.format ?? "raw");
    ({ commands: this.#commands, subscriber: this.#subscriber } = clusterConnections(
      options.seeds,
    ));
  }

  /** True while the cluster client is connected. */
  get ready(): boolean {
    return this.#commands.status === "ready";
  }

  async start(sink: BrokerSink): Promise<void> {
    this.#sink = sink;
    for (const connection of [this.#commands, this.#subscriber]) {
      // Before the start settles, its failure says it all.
      const trouble = (reason: string) => this.#started && this.#trouble(reason);
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
    this.#schedule(SWEEP_MS);
  }

  async publish(message: Message): Promise<PublishResult> {
    const positions = await Promise.all(
      message.channels.map((channel) => this.#publishTo(channel, message)),
    );
    const local = message.channels.filter((channel) => this.#watches.has(channel));
    const counts = await Promise.all(
      local.map((channel) =>
        this.#echoes.expect(`${positions[message.channels.indexOf(channel)]}@${channel}`)
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
    return this.#watches.get(channel)?.position;
  }

  async watch(channel: string): Promise<void> {
    const watch: Watch = { position: START, reading: [] };
    this.#watches.set(channel, watch);
    try {
      // Where the channel is now, then listen, then read what came between.
      const last = await this.#commands.hget(this.#keys.channelState(channel), "last");
      watch.position = last ?? START;
      // One call per name: they may hash to different slots.
      for (const name of this.#shardChannels(channel)) await this.#subscriber.ssubscribe(name);
      if (!isClientChannel(channel)) await this.#subscriber.subscribe(this.#keys.raw(channel));
    } catch (error) {
      log.warning("cannot subscribe to {channel}: {error}", {
        channel,
        error: (error as Error).message,
      });
      this.#trouble((error as Error).message);
    }
    if (this.#watches.get(channel) === watch) await this.#catchUp(channel, watch);
  }

  unwatch(channel: string): void {
    this.#watches.delete(channel);
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
    this.#closed = true;
    clearTimeout(this.#sweep);
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
    this.#take(channel, parsed.copy, parsed.prev);
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
    if (!this.#watches.has(name)) return;
    this.#sink?.deliver(
      createEvent({ channels: [name], ...this.#readRaw(name, message) }, undefined),
    );
  }

  /**
   * A live copy on `channel`: handed on when it follows the last one handed
   * on; dropped when handed on already; otherwise what came between is read
   * from the history first.
   */
  #take(channel: string, copy: HubEvent, prev: string): void {
    const watch = this.#watches.get(channel);
    if (!watch) return;
    if (watch.reading) return void watch.reading.push({ copy, prev });
    if (compareIds(copy.id!, watch.position) <= 0) return;
    if (compareIds(prev, watch.position) <= 0) return this.#hand(channel, watch, copy);
    watch.reading = [{ copy, prev }];
    void this.#catchUp(channel, watch);
  }

  #hand(channel: string, watch: Watch, copy: HubEvent): void {
    watch.position = copy.id!;
    this.#echoes.settle(`${copy.id}@${channel}`, this.#sink?.deliver(copy) ?? 0);
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
    while (this.#watches.get(channel) === watch && !this.#closed) {
      try {
        const from = watch.position;
        const read = await readChannel(this.#commands, this.#keys, channel, from);
        if (this.#watches.get(channel) !== watch) return;
        const lost = from !== START &&
          (read.last === null || read.evicted ||
            (read.floor !== null && compareIds(from, read.floor) < 0));
        if (lost) {
          log.warning("events of {channel} were lost in Redis", { channel });
          this.#sink?.interrupted([channel], from);
          if (read.last === null) watch.position = START;
        }
        for (const copy of read.copies) {
          if (compareIds(copy.id!, watch.position) > 0) {
            this.#hand(channel, watch, copy);
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
    for (const { copy, prev } of held) this.#take(channel, copy, prev);
  }

  /** Something went wrong with the cluster: compare positions often for a while. */
  #trouble(reason: string): void {
    if (this.#closed) return;
    if (reason) this.#outage.begin(reason);
    this.#troubleUntil = Date.now() + TROUBLE_MS;
    this.#schedule(TROUBLE_SWEEP_MS);
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
   * handed on, and catches up those behind: a failover can drop the last
   * pub/sub messages of a channel, with no later copy to reveal the hole.
   */
  async #compare(): Promise<void> {
    if (this.#closed) return;
    const channels = [...this.#watches.keys()];
    try {
      const lasts = await Promise.all(
        channels.map((channel) => this.#commands.hget(this.#keys.channelState(channel), "last")),
      );
      channels.forEach((channel, i) => {
        const watch = this.#watches.get(channel);
        if (!watch || watch.reading) return;
        const last = lasts[i];
        const behind = last === null
          ? watch.position !== START
          : compareIds(last, watch.position) > 0;
        if (behind) void this.#catchUp(channel, watch);
      });
      if (Date.now() > this.#troubleUntil) this.#outage.end(0);
    } catch {
      this.#troubleUntil = Math.max(this.#troubleUntil, Date.now() + TROUBLE_SWEEP_MS);
    }
    if (!this.#closed) {
      this.#schedule(Date.now() < this.#troubleUntil ? TROUBLE_SWEEP_MS : SWEEP_MS);
    }
  }
}
