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
import type { Broker, PublishResult } from "./brokers/broker.ts";
import { ControlPlane } from "./control.ts";
import { CursorLines, type CursorSet, CursorSets, takesFrom } from "./cursor.ts";
import { closeSpread, Lifetimes } from "./drain.ts";
import { encodeComment } from "./encode.ts";
import type { HubEvent, Message } from "./event.ts";
import { Histogram } from "./metrics.ts";
import { encodeGap, Replays } from "./replay.ts";
import { Subscriptions } from "./subscriptions.ts";
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
  readonly #channels: Subscriptions;
  readonly #subscribers = new Set<Subscriber>();
  /** Subscribers whose replay is in flight: live events wait there. */
  readonly #replays = new Replays();
  /** Each subscriber's channels in cursor order, with a broker that orders per channel. */
  readonly #cursorSets = new Map<Subscriber, CursorSet>();
  readonly #sharedSets = new CursorSets();
  /** Open connections per client address. */
  readonly #perAddress = new Map<string, number>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #retryMs: number;
  readonly #lifetimes: Lifetimes;
  /** POST /disconnect across instances, and the stopped client tokens. */
  readonly control: ControlPlane;
  #closed = false;
  #draining = false;

  constructor(options: HubOptions) {
    this.broker = options.broker;
    this.#channels = new Subscriptions(this.broker);
    this.#heartbeatMs = options.heartbeatMs;
    this.#lifetimes = new Lifetimes(options.maxLifetimeMs ?? 0);
    this.control = new ControlPlane(this, this.broker, options.stopTtlMs ?? 3_600_000);
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
      control: (command) => this.control.apply(command),
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
    return this.#channels.size;
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
    return this.#channels.count(channel);
  }

  /**
   * {@linkcode Hub.subscribers} once the broker listens to `channel` for the
   * subscribers it has here now: instead of 0 while a SUBSCRIBE or queue
   * binding is in flight, waits for it. For "is this token connected?"
   * asked right after its stream opened.
   */
  settledSubscribers(channel: string): Promise<number> {
    return this.#channels.settledCount(channel);
  }

  /**
   * `[channel, subscribers]` for every non-empty channel (cyclone-sse's
   * /stats), leaving out the per-connection `client:` channels.
   */
  stats(): [string, number][] {
    return this.#channels.stats();
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
    if (this.broker.position) this.#cursorSets.set(sub, this.#sharedSets.take(sub.channels));
    this.#channels.add(sub);
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
        cursorChannels: sub.channels,
        broker: this.broker,
        isOpen: () => this.#subscribers.has(sub),
        after: this.#channels.watched(replayChannels),
      });
    }
  }

  /** Throws a `ProtocolError` for a channel name the broker cannot carry. */
  checkChannels(channels: readonly string[]): void {
    for (const channel of channels) this.broker.checkChannel?.(channel);
  }

  /** Publishes through the broker; resolves once it is accepted. */
  async publish(message: Message): Promise<PublishResult> {
    this.checkChannels(message.channels);
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
    if (event.channel !== undefined) {
      delivered = this.#dispatchCopy(event, event.channel);
    } else if (channels.length === 1) {
      for (const sub of this.#channels.members(channels[0])) {
        delivered += this.#write(sub, event, bytes);
      }
    } else {
      for (const sub of this.#channels.eachMember(channels)) {
        delivered += this.#write(sub, event, bytes);
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
    let delivered = 0;
    for (const sub of this.#channels.eachMember(channels)) {
      const bytes = render(sub);
      if (bytes) {
        sub.write(bytes);
        delivered++;
      }
    }
    this.counters.delivered += delivered;
    return delivered;
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

  /**
   * One channel's copy of an event, from a broker that orders per channel:
   * written with the cursor of each connection's set of channels, built
   * once per set; a connection on several of the event's channels takes it
   * from one copy only (see {@linkcode takesFrom}).
   */
  #dispatchCopy(event: HubEvent, channel: string): number {
    const lines = new CursorLines(event.bytes, channel, (c) => this.broker.position!(c));
    const several = event.channels.length > 1;
    let delivered = 0;
    for (const sub of this.#channels.members(channel)) {
      if (several && !takesFrom(sub.channels, event.channels, channel)) continue;
      const set = this.#cursorSets.get(sub)!;
      delivered += this.#write(sub, event, lines.headFor(set), lines.restFor(set));
    }
    return delivered;
  }

  /** Writes `bytes` (and `rest`, the end of a connection's own id line), or holds them during its replay. */
  #write(sub: Subscriber, event: HubEvent, bytes: Uint8Array, rest?: Uint8Array): number {
    if (this.#replays.active) {
      const held = this.#replays.hold(sub, event, bytes, rest);
      if (held === "held") return 1;
      if (held === "overflow") {
        sub.close("slow");
        return 0;
      }
    }
    sub.write(bytes);
    if (rest) sub.write(rest);
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
    const set = this.#cursorSets.get(sub);
    if (set) {
      this.#cursorSets.delete(sub);
      this.#sharedSets.release(set);
    }
    this.#lifetimes.stop(sub);
    this.#channels.remove(sub);
    this.counters.closed[reason]++;
    log.debug("disconnect {id} reason={reason}", { id: sub.id, reason });
  }

  /** Tells the subscribers of `channels` that events may have been lost. */
  #interrupted(channels: readonly string[], lastEventId: string | undefined): void {
    const gap = encodeGap({ reason: "interrupted", channels }, lastEventId);
    let told = 0;
    for (const sub of this.#channels.eachMember(channels)) {
      sub.write(gap);
      told++;
    }
    if (told > 0) {
      log.warning("told {told} streams on {channels} channels that events may be lost", {
        told,
        channels: channels.length,
      });
    }
  }

  #beat(): void {
    for (const sub of this.#subscribers) sub.write(HEARTBEAT);
  }
}
