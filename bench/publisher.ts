/**
 * Publishes from a worker thread of the load generator. The generator's main
 * thread is busy reading thousands of sockets; publishing from there would
 * send each message only after the previous one's deliveries were read,
 * lock-stepping publishes to deliveries. A real publisher (a web app, a job)
 * does not wait for subscribers, and neither does this one. Send times come
 * back on the main thread's clock.
 *
 * @module
 */

import type { PublishRequest } from "./targets.ts";

/** What the main thread asks of the worker: publish these, `intervalMs` apart (0: back to back). */
export interface BurstOrder {
  readonly requests: PublishRequest[];
  readonly intervalMs: number;
}

/** What the worker reports: a message was sent (absolute ms), or the burst ended. */
export type BurstReport =
  | { readonly index: number; readonly sentAt: number }
  | { readonly done: true; readonly error?: string };

/** A publishing worker; dispose of it to stop the thread. */
export class Publisher implements Disposable {
  readonly #worker = new Worker(new URL("./publisher_worker.ts", import.meta.url), {
    type: "module",
  });

  private constructor() {}

  /** Starts the worker and waits until it answers, so its start-up is not measured. */
  static async start(): Promise<Publisher> {
    const publisher = new Publisher();
    await publisher.burst([], 0, () => {});
    return publisher;
  }

  /**
   * Sends `requests` `intervalMs` apart; `onSent(i, at)` is called with each
   * send time on this thread's `performance.now()` clock. Resolves when all
   * were accepted.
   */
  burst(
    requests: PublishRequest[],
    intervalMs: number,
    onSent: (index: number, at: number) => void,
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#worker.onmessage = ({ data }: MessageEvent<BurstReport>) => {
        if ("done" in data) {
          if (data.error) reject(new Error(data.error));
          else resolve();
        } else onSent(data.index, data.sentAt - performance.timeOrigin);
      };
      this.#worker.postMessage({ requests, intervalMs } satisfies BurstOrder);
    });
  }

  [Symbol.dispose](): void {
    this.#worker.terminate();
  }
}
