/**
 * Which subscriber listens to which channel, and the broker watching that
 * follows from it: the first local subscriber of a channel makes the broker
 * watch it (a SUBSCRIBE, a queue binding), the last one to leave unwatches
 * it. A channel counts its subscribers only once the broker delivers it, so
 * a count means that a publish from anywhere reaches them.
 *
 * @module
 */

import type { Broker } from "./brokers/broker.ts";
import { ChannelMap } from "./channel_map.ts";
import { isClientChannel } from "./channels.ts";
import type { Subscriber } from "./subscriber.ts";

/** Channels → subscribers, kept in step with what the broker watches. */
export class Subscriptions {
  readonly #broker: Broker;
  readonly #channels = new ChannelMap<Subscriber>();
  /** Channels the broker is still starting to listen to (not counted yet). */
  readonly #watching = new Map<string, Promise<void>>();
  /** How many of the channels are per-connection `client:` channels. */
  #clientChannels = 0;

  constructor(broker: Broker) {
    this.#broker = broker;
  }

  /** Adds `sub` to each of its channels, watching those that are new. */
  add(sub: Subscriber): void {
    for (const channel of sub.channels) {
      if (!this.#channels.add(channel, sub)) continue;
      if (isClientChannel(channel)) this.#clientChannels++;
      const pending = this.#broker.watch(channel);
      if (!pending) continue;
      this.#watching.set(channel, pending);
      pending.finally(() => {
        if (this.#watching.get(channel) === pending) this.#watching.delete(channel);
      });
    }
  }

  /** Removes `sub` from its channels, unwatching those left empty. */
  remove(sub: Subscriber): void {
    for (const channel of sub.channels) {
      if (!this.#channels.delete(channel, sub)) continue;
      if (isClientChannel(channel)) this.#clientChannels--;
      this.#watching.delete(channel);
      this.#broker.unwatch(channel);
    }
  }

  /** The subscribers of `channel`. */
  members(channel: string): Iterable<Subscriber> {
    return this.#channels.members(channel);
  }

  /** Each subscriber of any of `channels`, once. */
  *eachMember(channels: readonly string[]): Generator<Subscriber> {
    const seen = new Set<Subscriber>();
    for (const channel of channels) {
      for (const sub of this.#channels.members(channel)) {
        if (seen.has(sub)) continue;
        seen.add(sub);
        yield sub;
      }
    }
  }

  /** Settles once the broker delivers every one of `channels`. */
  watched(channels: readonly string[]): Promise<unknown> {
    return Promise.all(channels.map((channel) => this.#watching.get(channel)));
  }

  /** Subscribers on `channel`; 0 while the broker is still starting to deliver it. */
  count(channel: string): number {
    return this.#watching.has(channel) ? 0 : this.#channels.count(channel);
  }

  /** {@linkcode Subscriptions.count}, after waiting for the broker to deliver `channel`. */
  async settledCount(channel: string): Promise<number> {
    await this.#watching.get(channel)?.catch(() => {});
    return this.count(channel);
  }

  /** Channels with at least one subscriber, not counting `client:` channels. */
  get size(): number {
    return this.#channels.size - this.#clientChannels;
  }

  /** `[channel, subscribers]` for every delivered channel but the `client:` ones. */
  stats(): [string, number][] {
    const out: [string, number][] = [];
    for (const name of this.#channels.names()) {
      if (!isClientChannel(name) && !this.#watching.has(name)) {
        out.push([name, this.#channels.count(name)]);
      }
    }
    return out;
  }
}
