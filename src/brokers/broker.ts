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

/** Called by a broker for every event to hand to local subscribers; returns how many got it. */
export type Deliver = (event: HubEvent) => number;

/** A source and sink of events, shared by all instances that use it. */
export interface Broker {
  /** `memory`, `redis`, `amqp`: for logs, stats and metrics. */
  readonly kind: string;
  /** False while the broker cannot publish (e.g. Redis is down). */
  readonly ready: boolean;
  /** Connects, and from then on hands every event to `deliver`. */
  start(deliver: Deliver): Promise<void>;
  /**
   * Assigns an id, stores the event for replay where the broker keeps history,
   * and fans it out to every instance. Rejects with
   * `ServiceUnavailableError` when the broker is down.
   */
  publish(message: Message): Promise<PublishResult>;
  /** Events after `lastEventId` on `channels`, oldest first, with a gap flag. */
  replay(channels: readonly string[], lastEventId: string): Promise<Replay>;
  /**
   * The hub has a first local subscriber on `channel`. A broker that must
   * ask its server first (a queue binding, a SUBSCRIBE) returns a promise
   * that settles once the channel's events reach this instance.
   */
  watch(channel: string): void | Promise<void>;
  /** The hub's last local subscriber on `channel` left. */
  unwatch(channel: string): void;
  /** Disconnects; pending work is abandoned. */
  close(): Promise<void>;
}
