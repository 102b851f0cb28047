/**
 * The Redis broker: many sse-hub instances share one Redis.
 *
 * - **One order, per-channel history.** One Lua script assigns the event its
 *   id (`<ms>-<seq>`, from Redis's clock, above the last id it handed out),
 *   appends it to the history stream of each of its channels (trimmed to
 *   about `--history-size` entries each) and publishes it on each channel's
 *   events channel, in one atomic step. Ids order every event of every
 *   channel, so one `Last-Event-ID` is an exact cursor over any set of
 *   channels, on any instance.
 * - **Routing by channel.** An instance subscribes only to the channels it
 *   has local subscribers on (first subscriber subscribes, last one
 *   unsubscribes), and so receives only their events.
 * - **Raw messages** published by anyone else on the Redis channel of an SSE
 *   channel (`redis-cli PUBLISH news 'hi'`, as with cyclone-sse) are
 *   delivered verbatim, live, without an id; with `--redis-format tornado`,
 *   tornado-sse's `["event", data]` arrays become named events.
 * - **Outages.** While a connection is down, publish answers 503. When the
 *   subscriber connection is back, the broker catches up from the history
 *   streams (every event after the last one it dispatched), then resumes live
 *   delivery, without duplicates. If Redis lost its data meanwhile (a
 *   restart without persistence: its floor key changed), subscribers get an
 *   `interrupted` gap event instead of silence.
 * - **Control.** `POST /disconnect` is published on a control channel that
 *   every instance listens to; a stop is a key with the `--stop-ttl` expiry.
 *
 * Key layout (each channel's keys share the hash tag `{<channel>}`, so a
 * cluster can keep them on one shard): see {@linkcode redisKeys} and
 * docs/scaling.md.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Redis } from "ioredis";
import { CLIENT_PREFIX, isClientChannel } from "../channels.ts";
import { UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import type { Replay } from "../history.ts";
import { compareIds } from "../ids.ts";
import type { Broker, BrokerSink, Control, PublishResult } from "./broker.ts";
import { Echoes } from "./echoes.ts";
import { Outage } from "./outage.ts";
import { redactUrl } from "./redact.ts";
import { parseEnvelope } from "./redis_codec.ts";
import { readHistory, replayHistory } from "./redis_history.ts";
import {
  CLIENT_HISTORY_MS,
  type RedisKeys,
  redisKeys,
  type RedisStoreOptions,
} from "./redis_keys.ts";
import { redisConnections, type ScriptedRedis } from "./redis_connections.ts";
import { rawPayloadReader } from "./tornado_payload.ts";

const log = getLogger(["sse-hub", "redis"]);

/** How long a publish waits to see its own event come back to count local deliveries. */
const ECHO_TIMEOUT_MS = 2000;
/** Pause between catch-up attempts while Redis is still coming back. */
const RECOVER_RETRY_MS = 200;

/** Options for {@linkcode RedisBroker}. */
export interface RedisBrokerOptions extends RedisStoreOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…`. */
  readonly url: string;
}

/** Shares events and their per-channel history between instances through Redis. */
export class RedisBroker implements Broker {
  readonly kind = "redis";
  readonly #options: RedisBrokerOptions;
  readonly #keys: RedisKeys;
  readonly #commands: ScriptedRedis;
  readonly #subscriber: Redis;
  readonly #echoes = new Echoes(ECHO_TIMEOUT_MS, 0);
  readonly #readRaw: ReturnType<typeof rawPayloadReader>;
  #sink: BrokerSink | undefined;
  /** SSE channels with local subscribers. */
  readonly #watched = new Set<string>();
  /** The last id Redis had handed out when this instance began watching a channel. */
  readonly #watchedAfter = new Map<string, string>();
  /** The newest event id dispatched: everything up to it has been handed on. */
  #cursor = "0-0";
  /** The floor of Redis's data when last seen. */
  #floor = "";
  /** Live events queued while catching up after an outage (undefined when live). */
  #queued: HubEvent[] | undefined;
  /** Bumped on every reconnect, so a stale catch-up gives up. */
  #generation = 0;
  /** The generation whose catch-up is running, if any. */
  #recovering = -1;
  #closed = false;
  readonly #outage = new Outage(log, "Redis");

  constructor(options: RedisBrokerOptions) {
    this.#options = options;
    this.#keys = redisKeys(options.prefix);
    this.#readRaw = rawPayloadReader(options.format ?? "raw");
    ({ commands: this.#commands, subscriber: this.#subscriber } = redisConnections(options.url));
  }

  /** True while both connections are up and live delivery is caught up. */
  get ready(): boolean {
    return this.#commands.status === "ready" && this.#subscriber.status === "ready" &&
      this.#queued === undefined;
  }

  async start(sink: BrokerSink): Promise<void> {
    this.#sink = sink;
    try {
      await Promise.all([this.#commands.connect(), this.#subscriber.connect()]);
      const [floor, last] = await this.#commands.sseHubFloor(this.#keys.floor, this.#keys.lastId);
      this.#floor = floor;
      this.#cursor = last ?? "0-0";
      await this.#subscriber.subscribe(this.#keys.control);
    } catch (error) {
      this.#commands.disconnect();
      this.#subscriber.disconnect();
      throw new Error(
        `cannot connect to Redis at ${redactUrl(this.#options.url)}: ${
          (error as Error).message
        }; check --redis-url and that Redis is running`,
      );
    }
    this.#subscriber.on("message", (channel: string, message: string) => {
      this.#onMessage(channel, message);
    });
    for (const connection of [this.#commands, this.#subscriber]) {
      connection.on("error", (error: Error) => this.#down(error.message));
      connection.on("close", () => this.#down("connection closed"));
    }
    this.#subscriber.on("close", () => {
      this.#queued ??= [];
      this.#generation++;
    });
    this.#subscriber.on("ready", () => this.#recover());
    this.#commands.on("ready", () => this.#recover());
  }

  async publish(message: Message): Promise<PublishResult> {
    if (!this.ready) {
      this.#outage.refused++;
      throw new UnavailableError(
        "Redis is unavailable or still catching up; the message was not published, retry later",
      );
    }
    const { historySize, historyTtlMs } = this.#options;
    const keys = [this.#keys.lastId, this.#keys.floor];
    for (const channel of message.channels) {
      keys.push(this.#keys.history(channel), this.#keys.events(channel));
    }
    let id: string;
    try {
      id = await this.#commands.sseHubPublish(
        keys.length,
        ...keys,
        historySize,
        historyTtlMs > 0 ? String(Date.now() - historyTtlMs) : "",
        JSON.stringify(message.channels),
        message.event ?? "",
        message.data,
        message.retry ?? "",
        this.#keys.history(CLIENT_PREFIX).slice(0, -1),
        CLIENT_HISTORY_MS,
      );
    } catch (error) {
      throw new UnavailableError(
        `Redis did not take the message: ${(error as Error).message}; retry later`,
      );
    }
    const local = message.channels.some((channel) => this.#watched.has(channel));
    return { id, delivered: local ? await this.#echoes.expect(id) : 0 };
  }

  async replay(channels: readonly string[], lastEventId: string): Promise<Replay> {
    if (!this.ready) {
      // While catching up, the history and the live events have not met yet.
      this.#outage.replaysFailed++;
      throw new UnavailableError("Redis is unavailable or still catching up; replay later");
    }
    return await replayHistory(this.#commands, this.#keys, channels, lastEventId, {
      ttlMs: this.#options.historyTtlMs,
      clientHistoryMs: CLIENT_HISTORY_MS,
    });
  }

  async watch(channel: string): Promise<void> {
    this.#watched.add(channel);
    try {
      // Events up to this id came before this instance listened: a catch-up
      // after an outage must not hand them to its subscribers. Read before
      // SUBSCRIBE, so that nothing falls between the two.
      const last = await this.#commands.get(this.#keys.lastId);
      await this.#subscriber.subscribe(...this.#redisChannels(channel));
      if (last !== null && this.#watched.has(channel)) this.#watchedAfter.set(channel, last);
    } catch (error) {
      // In an outage: the catch-up subscribes again once Redis is back.
      const level = this.#outage.active || this.#commands.status !== "ready" ? "debug" : "warning";
      log[level]("cannot subscribe to {channel}: {error}", {
        channel,
        error: (error as Error).message,
      });
    }
  }

  unwatch(channel: string): void {
    this.#watched.delete(channel);
    this.#watchedAfter.delete(channel);
    this.#subscriber.unsubscribe(...this.#redisChannels(channel)).catch(() => {});
  }

  async broadcast(command: Control): Promise<void> {
    try {
      const batch = this.#commands.multi();
      if (command.client !== undefined && command.stopMs !== undefined) {
        batch.set(this.#keys.stop(command.client), "1", "PX", Math.max(1, command.stopMs));
      }
      await batch.publish(this.#keys.control, JSON.stringify(command)).exec();
    } catch (error) {
      throw new UnavailableError(
        `Redis did not take the command: ${(error as Error).message}; retry later`,
      );
    }
  }

  async isStopped(client: string): Promise<boolean> {
    if (this.#commands.status !== "ready") return false;
    return (await this.#commands.exists(this.#keys.stop(client)).catch(() => 0)) === 1;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#echoes.cancel();
    this.#commands.disconnect();
    this.#subscriber.disconnect();
    await Promise.resolve();
  }

  /** The Redis channels carrying `channel`'s events: sse-hub's own, and raw ones. */
  #redisChannels(channel: string): string[] {
    const names = [this.#keys.events(channel)];
    // Per-connection client: channels take no raw messages.
    if (!isClientChannel(channel)) names.push(this.#keys.raw(channel));
    return names;
  }

  #onMessage(channel: string, message: string): void {
    if (channel === this.#keys.control) return this.#onControl(message);
    if (channel.startsWith(this.#keys.eventsPrefix)) {
      const event = parseEnvelope(message);
      if (!event) return log.warning("ignored a malformed message on {channel}", { channel });
      if (this.#queued) this.#queued.push(event);
      else this.#dispatch(event);
      return;
    }
    const name = channel.slice(this.#options.prefix.length);
    this.#sink?.deliver(
      createEvent({ channels: [name], ...this.#readRaw(name, message) }, undefined),
    );
  }

  /**
   * Hands an event on once: events come in id order, so one that is not
   * newer than the cursor was dispatched already (a multi-channel event
   * arrives once per channel; a catch-up overlaps live delivery).
   */
  #dispatch(event: HubEvent): void {
    if (compareIds(event.id!, this.#cursor) <= 0) return;
    this.#hand(event);
  }

  /** Delivers an event locally, answers its publish's echo, moves the cursor up to it. */
  #hand(event: HubEvent): void {
    const id = event.id!;
    if (compareIds(id, this.#cursor) > 0) this.#cursor = id;
    this.#echoes.settle(id, this.#sink?.deliver(event) ?? 0);
  }

  #onControl(message: string): void {
    try {
      this.#sink?.control(JSON.parse(message) as Control);
    } catch {
      log.warning("ignored a malformed control message");
    }
  }

  #down(reason: string): void {
    if (!this.#closed) this.#outage.begin(reason);
  }

  /**
   * After a reconnect: resubscribe, then deliver what was added to the
   * watched channels' histories since the last event dispatched, then the
   * live events queued meanwhile. If Redis lost its data, tell the watched
   * channels' subscribers instead.
   */
  async #recover(): Promise<void> {
    if (this.#closed) return;
    if (this.#commands.status !== "ready" || this.#subscriber.status !== "ready") return;
    // Only the command connection was down: nothing to catch up.
    if (this.#queued === undefined) return this.#outage.end(0);
    const generation = this.#generation;
    // Both connections' "ready" call this: one catch-up per reconnect.
    if (this.#recovering === generation) return;
    this.#recovering = generation;
    /** The cursor before the catch-up, and what the catch-up handed on. */
    let before = this.#cursor;
    const handed = new Set<string>();
    for (;;) {
      if (generation !== this.#generation || this.#closed) return;
      try {
        const channels = [...this.#watched];
        await this.#subscriber.subscribe(
          this.#keys.control,
          ...channels.flatMap((channel) => this.#redisChannels(channel)),
        );
        const [floor] = await this.#commands.sseHubFloor(this.#keys.floor, this.#keys.lastId);
        if (generation !== this.#generation) return;
        if (floor !== this.#floor) {
          log.warning("Redis lost its data (restarted without persistence?)");
          this.#floor = floor;
          this.#watchedAfter.clear();
          if (channels.length > 0) this.#sink?.interrupted(channels, this.#cursor);
          this.#cursor = "0-0";
        }
        const missed = await this.#readAfter(channels, this.#cursor);
        if (generation !== this.#generation) return;
        if (missed.evicted.length > 0) this.#sink?.interrupted(missed.evicted, this.#cursor);
        before = this.#cursor;
        for (const event of missed.events) {
          handed.add(event.id!);
          this.#dispatch(event);
        }
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RECOVER_RETRY_MS));
      }
    }
    // What arrived live meanwhile, but for what the catch-up handed on. A
    // channel watched during the catch-up was not read: its live events may
    // be older than the catch-up's newest and still new to its subscribers.
    const caughtUp = handed.size;
    const queued = this.#queued ?? [];
    this.#queued = undefined;
    for (const event of queued) {
      const id = event.id!;
      if (handed.has(id) || compareIds(id, before) <= 0) continue;
      handed.add(id);
      this.#hand(event);
    }
    this.#outage.end(caughtUp);
  }

  /** Every history event after `cursor` on `channels`, and the channels whose history lost some. */
  async #readAfter(
    channels: readonly string[],
    cursor: string,
  ): Promise<{ events: HubEvent[]; evicted: string[] }> {
    if (channels.length === 0) return { events: [], evicted: [] };
    const reads = channels.map((channel) => {
      const after = this.#watchedAfter.get(channel);
      return {
        channel,
        after: after !== undefined && compareIds(after, cursor) > 0 ? after : cursor,
      };
    });
    return await readHistory(this.#commands, this.#keys, reads);
  }
}
