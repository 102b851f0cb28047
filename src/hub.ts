/**
 * The channel hub: which subscriber listens to which channel, fan-out of each
 * event's bytes, replay on reconnect, and the heartbeat. It knows nothing of
 * HTTP or of a broker's wire format.
 *
 * @example
 * ```ts
 * import { Hub } from "./hub.ts";
 * import { MemoryBroker } from "./brokers/memory.ts";
 * const hub = new Hub({ broker: new MemoryBroker({ historySize: 100 }), heartbeatMs: 0 });
 * await hub.start();
 * const result = await hub.publish({ channels: ["news"], data: "hello" });
 * result.delivered; // 0: nobody listens yet
 * await hub.close();
 * ```
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Broker, Control, PublishResult } from "./brokers/broker.ts";
import { ChannelMap } from "./channel_map.ts";
import { CLIENT_PREFIX, isClientChannel } from "./channels.ts";
import { closeSpread, Lifetimes } from "./drain.ts";
import { encodeComment } from "./encode.ts";
import type { HubEvent, Message } from "./event.ts";
import { Histogram } from "./metrics.ts";
import { encodeGap, Replays } from "./replay.ts";
import { StopList } from "./stop_list.ts";
import type { CloseReason, Subscriber } from "./subscriber.ts";

const log = getLogger(["sse-hub", "hub"]);

/** The heartbeat comment, one shared buffer written to every stream. */
export const HEARTBEAT: Uint8Array = encodeComment("heartbeat");

/** Options for {@linkcode Hub}. */
export interface HubOptions {
  /** Where events are published to and received from. */
  readonly broker: Broker;
  /** Milliseconds between heartbeat comments; 0 disables them. */
  readonly heartbeatMs: number;
  /** Close each connection after about this long (±10 %); 0 keeps it open. */
  readonly maxLifetimeMs?: number;
  /** The reconnection delay clients were given; drain jitters around it. */
  readonly retryMs?: number;
  /** How long a client told to stop is refused by default (milliseconds). */
  readonly stopTtlMs?: number;
}

/** Running totals, for /stats and metrics. */
export interface HubCounters {
  published: number;
  delivered: number;
  replayed: number;
  closed: Record<CloseReason, number>;
  /** Seconds from publish to the event written to every local subscriber. */
  readonly publishToWrite: Histogram;
}

/** Channels → subscribers, and the one place events are fanned out. */
export class Hub {
  readonly broker: Broker;
  readonly counters: HubCounters = {
    published: 0,
    delivered: 0,
    replayed: 0,
    closed: { client: 0, slow: 0, shutdown: 0, kicked: 0, lifetime: 0 },
    publishToWrite: new Histogram(),
  };
  readonly #heartbeatMs: number;
  readonly #channels = new ChannelMap<Subscriber>();
  /** Channels the broker is still starting to listen to (not counted yet). */
  readonly #watching = new Map<string, Promise<void>>();
  readonly #subscribers = new Set<Subscriber>();
  /** Subscribers whose replay is in flight: live events wait there. */
  readonly #replays = new Replays();
  /** Open connections per client address. */
  readonly #perAddress = new Map<string, number>();
  /** How many of the channels are per-connection `client:` channels. */
  #clientChannels = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #retryMs: number;
  readonly #lifetimes: Lifetimes;
  /** Client tokens told to stop reconnecting, on this instance. */
  readonly #stopped: StopList;
  #closed = false;
  #draining = false;

  constructor(options: HubOptions) {
    this.broker = options.broker;
    this.#heartbeatMs = options.heartbeatMs;
    this.#lifetimes = new Lifetimes(options.maxLifetimeMs ?? 0);
    this.#stopped = new StopList(options.stopTtlMs ?? 3_600_000);
    this.#retryMs = options.retryMs ?? 2000;
  }

  /** True once {@linkcode Hub.drain} has begun: new subscribers are refused. */
  get draining(): boolean {
    return this.#draining || this.#closed;
  }

  /** Starts the broker and the heartbeat timer. */
  async start(): Promise<void> {
    await this.broker.start({
      deliver: (event) => this.dispatch(event),
      interrupted: (channels, lastEventId) => this.#interrupted(channels, lastEventId),
      control: (command) => this.#apply(command),
    });
    if (this.#heartbeatMs > 0) {
      this.#heartbeat = setInterval(
        () => this.#beat(),
        this.#heartbeatMs,
      );
    }
  }

  /** Number of open subscriber connections. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Number of channels with at least one subscriber (not counting `client:` channels). */
  get channelCount(): number {
    return this.#channels.size - this.#clientChannels;
  }

  /** Open connections from the client address `remote`. */
  connectionsFrom(remote: string): number {
    return this.#perAddress.get(remote) ?? 0;
  }

  /**
   * Subscribers on `channel` right now, counted once the broker listens to
   * the channel (a new channel counts 0 until its queue binding or SUBSCRIBE
   * is in place), so a count means that a publish from anywhere reaches them.
   */
  subscribers(channel: string): number {
    return this.#watching.has(channel) ? 0 : this.#channels.count(channel);
  }

  /**
   * {@linkcode Hub.subscribers} once the broker listens to `channel` for the
   * subscribers it has here now: instead of 0 while a SUBSCRIBE or queue
   * binding is in flight, waits for it. For "is this token connected?"
   * asked right after its stream opened.
   */
  async settledSubscribers(channel: string): Promise<number> {
    await this.#watching.get(channel)?.catch(() => {});
    return this.subscribers(channel);
  }

  /**
   * `[channel, subscribers]` for every non-empty channel (cyclone-sse's
   * /stats), leaving out the per-connection `client:` channels.
   */
  stats(): [string, number][] {
    const out: [string, number][] = [];
    for (const name of this.#channels.names()) {
      if (!isClientChannel(name) && !this.#watching.has(name)) {
        out.push([name, this.#channels.count(name)]);
      }
    }
    return out;
  }

  /**
   * Registers a subscriber on its channels. With `lastEventId`, first writes
   * what it missed on `replayChannels` (default: all of its channels; a
   * client channel just made for it has no past) and a gap signal if that
   * is not everything, then live events, without duplicates or reordering.
   */
  async subscribe(
    sub: Subscriber,
    lastEventId?: string,
    replayChannels: readonly string[] = sub.channels,
  ): Promise<void> {
    if (this.draining) {
      sub.close("shutdown");
      return;
    }
    sub.onClose = (reason) => this.#remove(sub, reason);
    this.#subscribers.add(sub);
    if (sub.remote !== undefined) {
      this.#perAddress.set(sub.remote, this.connectionsFrom(sub.remote) + 1);
    }
    this.#lifetimes.start(sub);
    for (const channel of sub.channels) {
      if (this.#channels.add(channel, sub)) {
        if (isClientChannel(channel)) this.#clientChannels++;
        this.#watch(channel);
      }
    }
    log.debug("connect {id} channels={channels} lastEventId={lastEventId}", {
      id: sub.id,
      channels: sub.channels,
      lastEventId,
    });
    if (lastEventId !== undefined) {
      // Replay once the broker delivers every channel, so that what the
      // history says it covers and what arrives live meet without a hole.
      this.counters.replayed += await this.#replays.run(sub, {
        lastEventId,
        channels: replayChannels,
        broker: this.broker,
        isOpen: () => this.#subscribers.has(sub),
        after: Promise.all(replayChannels.map((c) => this.#watching.get(c))),
      });
    }
  }

  /** Publishes through the broker; resolves once it is accepted. */
  async publish(message: Message): Promise<PublishResult> {
    const result = await this.broker.publish(message);
    this.counters.published++;
    return result;
  }

  /**
   * Writes an event's bytes to every local subscriber of its channels, once
   * per subscriber. Brokers call this; it returns the number written to.
   */
  dispatch(event: HubEvent): number {
    const { channels, bytes } = event;
    let delivered = 0;
    if (channels.length === 1) {
      for (const sub of this.#channels.members(channels[0])) {
        delivered += this.#write(sub, event, bytes);
      }
    } else {
      const seen = new Set<Subscriber>();
      for (const channel of channels) {
        for (const sub of this.#channels.members(channel)) {
          if (seen.has(sub)) continue;
          seen.add(sub);
          delivered += this.#write(sub, event, bytes);
        }
      }
    }
    this.counters.delivered += delivered;
    this.counters.publishToWrite.observe(Math.max(0, Date.now() - event.publishedAt) / 1000);
    return delivered;
  }

  /**
   * Writes bytes made for each subscriber of `channels` (once per
   * subscriber): `render` returns them, or `undefined` to send nothing. This
   * is the library's per-subscriber publish; it builds bytes per subscriber,
   * so it is not the broadcast path, and such events are not kept for replay.
   */
  dispatchEach(
    channels: readonly string[],
    render: (sub: Subscriber) => Uint8Array | undefined,
  ): number {
    const seen = new Set<Subscriber>();
    let delivered = 0;
    for (const channel of channels) {
      for (const sub of this.#channels.members(channel)) {
        if (seen.has(sub)) continue;
        seen.add(sub);
        const bytes = render(sub);
        if (bytes) {
          sub.write(bytes);
          delivered++;
        }
      }
    }
    this.counters.delivered += delivered;
    return delivered;
  }

  /**
   * Carries out `command` on this instance and hands it to every other one
   * (POST /disconnect); returns how many streams this instance closed.
   */
  async control(command: Control): Promise<number> {
    const closed = this.#apply(command);
    await this.broker.broadcast(command);
    return closed;
  }

  /** Whether `client` was told to stop, here or (through the broker) on another instance. */
  async isStopped(client: string): Promise<boolean> {
    return this.#stopped.has(client) || await this.broker.isStopped(client);
  }

  /** Closes the subscribers `select` picks; returns how many. */
  disconnect(
    select: (sub: Subscriber) => boolean,
    reason: CloseReason = "kicked",
  ): number {
    let count = 0;
    for (const sub of [...this.#subscribers]) {
      if (select(sub)) {
        sub.close(reason);
        count++;
      }
    }
    return count;
  }

  /**
   * Closes every stream, spread over `ms`, each told a random reconnection
   * delay first, so that clients do not all reconnect at once; new
   * subscribers are refused meanwhile. Resolves when all are closed.
   */
  async drain(ms: number): Promise<void> {
    this.#draining = true;
    await closeSpread([...this.#subscribers], ms, this.#retryMs);
    this.close();
  }

  /** Stops the heartbeat and closes every stream; later subscribers are refused. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.disconnect(() => true, "shutdown");
  }

  #write(sub: Subscriber, event: HubEvent, bytes: Uint8Array): number {
    if (this.#replays.active) {
      const held = this.#replays.hold(sub, event);
      if (held === "held") return 1;
      if (held === "overflow") {
        sub.close("slow");
        return 0;
      }
    }
    sub.write(bytes);
    return 1;
  }

  #remove(sub: Subscriber, reason: CloseReason): void {
    if (!this.#subscribers.delete(sub)) return;
    if (sub.remote !== undefined) {
      const left = this.connectionsFrom(sub.remote) - 1;
      if (left > 0) this.#perAddress.set(sub.remote, left);
      else this.#perAddress.delete(sub.remote);
    }
    this.#replays.delete(sub);
    this.#lifetimes.stop(sub);
    for (const channel of sub.channels) {
      if (this.#channels.delete(channel, sub)) {
        if (isClientChannel(channel)) this.#clientChannels--;
        this.#watching.delete(channel);
        this.broker.unwatch(channel);
      }
    }
    this.counters.closed[reason]++;
    log.debug("disconnect {id} reason={reason}", { id: sub.id, reason });
  }

  /** Asks the broker for `channel`'s events; counts it once they flow. */
  #watch(channel: string): void {
    const pending = this.broker.watch(channel);
    if (!pending) return;
    this.#watching.set(channel, pending);
    pending.finally(() => {
      if (this.#watching.get(channel) === pending) this.#watching.delete(channel);
    });
  }

  /** Closes the streams a control command names and records its stop. */
  #apply(command: Control): number {
    const targets = [
      ...(command.client !== undefined ? [CLIENT_PREFIX + command.client] : []),
      ...(command.channel !== undefined ? [command.channel] : []),
    ];
    if (command.client !== undefined && command.stopMs !== undefined) {
      this.#stopped.add(command.client, command.stopMs);
    }
    if (targets.length === 0) return 0;
    return this.disconnect((sub) => targets.some((t) => sub.channels.includes(t)));
  }

  /** Tells the subscribers of `channels` that events may have been lost. */
  #interrupted(channels: readonly string[], lastEventId: string | undefined): void {
    const gap = encodeGap({ reason: "interrupted", channels }, lastEventId);
    const told = new Set<Subscriber>();
    for (const channel of channels) {
      for (const sub of this.#channels.members(channel)) {
        if (told.has(sub)) continue;
        told.add(sub);
        sub.write(gap);
      }
    }
    if (told.size > 0) {
      log.warning("told {n} streams on {channels} that events may be lost", {
        n: told.size,
        channels: channels.length,
      });
    }
  }

  #beat(): void {
    for (const sub of this.#subscribers) sub.write(HEARTBEAT);
  }
}
