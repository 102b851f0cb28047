/**
 * The one interface every broker implements. The hub publishes through the
 * broker and receives every event back from it, so the embedded memory broker
 * and Redis/AMQP look the same to the hub.
 *
 * @module
 */

import type { HubEvent, Message } from "../event.ts";
import type { Replay } from "../history.ts";

/** What a publish produced. */
export interface PublishResult {
  /** The event id, when the broker stores the event for replay. */
  readonly id?: string;
  /** Subscribers of this instance that were written to. */
  readonly delivered: number;
}

/**
 * A command that every instance carries out on its own streams: `POST
 * /disconnect` reaches the instance holding the client, whichever received it.
 */
export interface Control {
  /** Close the streams of this client token. */
  readonly client?: string;
  /** Close the streams subscribed to this channel. */
  readonly channel?: string;
  /** Refuse `client` (204, "stop reconnecting") for this many milliseconds. */
  readonly stopMs?: number;
}

/** What a broker hands events and signals to: the hub. */
export interface BrokerSink {
  /** Writes an event to local subscribers; returns how many got it. */
  deliver(event: HubEvent): number;
  /**
   * Events on `channels` may have been lost (a broker outage the broker
   * could not catch up from): their subscribers are told with a gap event.
   * `lastEventId` is the last event id this instance delivered before it.
   */
  interrupted(channels: readonly string[], lastEventId: string | undefined): void;
  /** A control command from another instance. */
  control(command: Control): void;
}

/** A source and sink of events, shared by all instances that use it. */
export interface Broker {
  /** `memory`, `redis`, `amqp`: for logs, stats and metrics. */
  readonly kind: string;
  /** False while the broker cannot publish (e.g. Redis is down). */
  readonly ready: boolean;
  /** Connects, and from then on hands every event and signal to `sink`. */
  start(sink: BrokerSink): Promise<void>;
  /**
   * Assigns an id, stores the event for replay where the broker keeps history,
   * and fans it out to every instance. Rejects with
   * `ServiceUnavailableError` when the broker is down.
   */
  publish(message: Message): Promise<PublishResult>;
  /**
   * Events after `lastEventId` on `channels`, oldest first, with a gap flag.
   * `cursorChannels` are all of the connection's channels (a superset of
   * `channels`): a broker with {@linkcode Broker.position} writes each
   * replayed event with the connection's cursor over them.
   */
  replay(
    channels: readonly string[],
    lastEventId: string,
    cursorChannels?: readonly string[],
  ): Promise<Replay>;
  /**
   * Present on brokers that order events per channel (Redis Cluster): the
   * position of the last event of `channel` handed to the hub. Their events
   * carry `channel`, and the hub ends each with the connection's compound
   * cursor (src/cursor.ts).
   */
  position?(channel: string): string | undefined;
  /**
   * The hub has a first local subscriber on `channel`. A broker that must
   * ask its server first (a queue binding, a SUBSCRIBE) returns a promise
   * that settles once the channel's events reach this instance.
   */
  watch(channel: string): void | Promise<void>;
  /** The hub's last local subscriber on `channel` left. */
  unwatch(channel: string): void;
  /**
   * Throws a `ProtocolError` for a channel name this broker cannot carry
   * (AMQP routing keys are at most 255 bytes); absent when every valid name works.
   */
  checkChannel?(channel: string): void;
  /**
   * Hands `command` to every other instance (their sinks' `control`); with
   * `stopMs`, also records the stop where instances share state.
   */
  broadcast(command: Control): Promise<void>;
  /** Whether `client` was told to stop through the shared state (false where there is none). */
  isStopped(client: string): Promise<boolean>;
  /** Disconnects; pending work is abandoned. */
  close(): Promise<void>;
}
