/**
 * Commands that act on streams wherever they are: `POST /disconnect` closes
 * a client's or a channel's streams on this instance and, through the
 * broker, on every other one; a stop makes the client's token answer 204
 * ("stop reconnecting") for a while, here and, where the broker shares
 * state (Redis), everywhere.
 *
 * @module
 */

import type { Broker, Control } from "./brokers/broker.ts";
import { CLIENT_PREFIX } from "./channels.ts";
import { StopList } from "./stop_list.ts";
import type { Subscriber } from "./subscriber.ts";

/** What {@linkcode ControlPlane} needs from the hub. */
export interface Disconnector {
  /** Closes the subscribers `select` picks (reason `kicked`); returns how many. */
  disconnect(select: (sub: Subscriber) => boolean): number;
}

/** Carries out control commands and remembers stopped tokens. */
export class ControlPlane {
  readonly #streams: Disconnector;
  readonly #broker: Broker;
  readonly #stopped: StopList;

  /** `stopTtlMs`: how long a stop lasts when a command does not say. */
  constructor(streams: Disconnector, broker: Broker, stopTtlMs: number) {
    this.#streams = streams;
    this.#broker = broker;
    this.#stopped = new StopList(stopTtlMs);
  }

  /**
   * Carries out `command` here and hands it to every other instance;
   * returns how many streams this instance closed.
   */
  async run(command: Control): Promise<number> {
    const closed = this.apply(command);
    await this.#broker.broadcast(command);
    return closed;
  }

  /** Carries out `command` on this instance (a broker calls this for other instances' commands). */
  apply(command: Control): number {
    if (command.client !== undefined && command.stopMs !== undefined) {
      this.#stopped.add(command.client, command.stopMs);
    }
    const targets = [
      ...(command.client !== undefined ? [CLIENT_PREFIX + command.client] : []),
      ...(command.channel !== undefined ? [command.channel] : []),
    ];
    if (targets.length === 0) return 0;
    return this.#streams.disconnect((sub) => targets.some((t) => sub.channels.includes(t)));
  }

  /** Whether `client` was told to stop, here or (through the broker) on another instance. */
  async isStopped(client: string): Promise<boolean> {
    return this.#stopped.has(client) || await this.#broker.isStopped(client);
  }
}
