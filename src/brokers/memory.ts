/**
 * The embedded broker: one process, history in memory. The default.
 *
 * @module
 */

import { createEvent, type Message } from "../event.ts";
import { History, type Replay } from "../history.ts";
import { IdClock } from "../ids.ts";
import type { Broker, BrokerSink, Control, PublishResult } from "./broker.ts";

/** Options for {@linkcode MemoryBroker}. */
export interface MemoryBrokerOptions {
  /** Events kept for replay, per channel. */
  readonly historySize: number;
  /** Replay window in milliseconds; 0 means no time limit. */
  readonly historyTtlMs?: number;
  /** Most bytes the history holds over all channels; 0 = no bound. */
  readonly historyMaxBytes?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** Delivers in-process, synchronously, and keeps a bounded history. */
export class MemoryBroker implements Broker {
  readonly kind = "memory";
  readonly ready = true;
  readonly #clock: IdClock;
  readonly #history: History;
  readonly #now: () => number;
  #sink: BrokerSink | undefined;

  constructor(options: MemoryBrokerOptions) {
    this.#now = options.now ?? Date.now;
    this.#clock = new IdClock(this.#now);
    this.#history = new History({
      size: options.historySize,
      ttlMs: options.historyTtlMs,
      maxBytes: options.historyMaxBytes,
      floor: this.#clock.floor(),
      now: this.#now,
    });
  }

  start(sink: BrokerSink): Promise<void> {
    this.#sink = sink;
    return Promise.resolve();
  }

  publish(message: Message): Promise<PublishResult> {
    const id = this.#clock.next();
    const event = createEvent(message, id, this.#now());
    this.#history.append(event);
    return Promise.resolve({ id, delivered: this.#sink?.deliver(event) ?? 0 });
  }

  replay(channels: readonly string[], lastEventId: string): Promise<Replay> {
    return Promise.resolve(this.#history.since(lastEventId, channels));
  }

  watch(_channel: string): void {}
  unwatch(_channel: string): void {}

  /** One process: there is no other instance to tell. */
  broadcast(_command: Control): Promise<void> {
    return Promise.resolve();
  }

  isStopped(_client: string): Promise<boolean> {
    return Promise.resolve(false);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
