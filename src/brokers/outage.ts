/**
 * One log line when a broker becomes unreachable and one when it is back,
 * with what happened meanwhile, instead of a line (or a stack trace) per
 * client that hit the outage.
 *
 * @module
 */

import type { Logger } from "@logtape/logtape";

/** An outage in progress, if any, and its counts. */
export class Outage {
  readonly #log: Logger;
  readonly #name: string;
  #since = 0;
  /** Publishes refused with 503 since the outage began. */
  refused = 0;
  /** Replays answered `replay-failed` since the outage began. */
  replaysFailed = 0;

  /** `name`: the broker as users know it ("Redis", "RabbitMQ"). */
  constructor(log: Logger, name: string) {
    this.#log = log;
    this.#name = name;
  }

  /** Whether an outage is in progress. */
  get active(): boolean {
    return this.#since !== 0;
  }

  /** The broker went away: logs once per outage. */
  begin(reason: string): void {
    if (this.#since !== 0) return;
    this.#since = Date.now();
    this.#log.warning("{name} is unreachable ({reason}); publishing answers 503 until it is back", {
      name: this.#name,
      reason,
    });
  }

  /** The broker is back (and caught up `caughtUp` events): logs once, with the counts. */
  end(caughtUp: number): void {
    if (this.#since === 0) return;
    const seconds = ((Date.now() - this.#since) / 1000).toFixed(1);
    this.#log.info(
      "{name} is back after {seconds} s: caught up {caughtUp} events; meanwhile refused {refused} publishes and {replaysFailed} replays",
      {
        name: this.#name,
        seconds,
        caughtUp,
        refused: this.refused,
        replaysFailed: this.replaysFailed,
      },
    );
    this.#since = 0;
    this.refused = 0;
    this.replaysFailed = 0;
  }
}
