/**
 * A publishing worker of the Redis Cluster scenario (bench/cluster.ts): it
 * POSTs numbered messages to `/publish` for a fixed time, `concurrency` at a
 * time, as fast as the servers accept them, and reports which numbers were
 * accepted (200) and when they were sent. Message `seq` goes to channel
 * `seq % channels.length` on instance `floor(seq / channels.length) % urls.length`,
 * so publishes go round-robin over channels and instances. Running in a
 * worker keeps the generator's main thread free to read the subscribers.
 *
 * @module
 */

/// <reference lib="deno.worker" />

/** What the main thread asks of a publishing worker. */
export interface ClusterPublishOrder {
  /** `POST /publish` URL of each sse-hub instance. */
  readonly urls: readonly string[];
  readonly channels: readonly string[];
  /** This worker sends `first`, `first + stride`, `first + 2 × stride`, … */
  readonly first: number;
  readonly stride: number;
  /** Numbers at or above this are not sent (the subscribers count only numbers below it). */
  readonly limit: number;
  /** Publishes in flight at once. */
  readonly concurrency: number;
  /** How long to keep starting publishes, in ms. */
  readonly durationMs: number;
}

/**
 * What a worker reports: accepted publishes as `[seq, sentAt, seq, sentAt, …]`
 * (sentAt in absolute ms, `performance.timeOrigin + performance.now()`), every
 * 100 ms and once more with `done` when its last publish was answered.
 */
export interface ClusterPublishReport {
  readonly accepted: number[];
  readonly done?: {
    /** Publishes answered other than 200, or that failed to send. */
    readonly failed: number;
    /** The first failure, if any. */
    readonly firstError?: string;
    /** Whether it stopped because it reached `limit` before the time was up. */
    readonly hitLimit: boolean;
  };
}

const REPORT_EVERY_MS = 100;

self.onmessage = async ({ data: order }: MessageEvent<ClusterPublishOrder>) => {
  const { urls, channels, stride, limit, concurrency, durationMs } = order;
  const end = performance.now() + durationMs;
  let next = order.first;
  let failed = 0;
  let firstError: string | undefined;
  let accepted: number[] = [];
  const flush = () => {
    if (accepted.length === 0) return;
    self.postMessage({ accepted } satisfies ClusterPublishReport);
    accepted = [];
  };
  const timer = setInterval(flush, REPORT_EVERY_MS);
  const lane = async () => {
    while (performance.now() < end && next < limit) {
      const seq = next;
      next += stride;
      const channel = channels[seq % channels.length];
      const url = urls[Math.floor(seq / channels.length) % urls.length];
      const sentAt = performance.timeOrigin + performance.now();
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ channel, data: `${seq} x` }),
        });
        await response.body?.cancel();
        if (response.status === 200) accepted.push(seq, sentAt);
        else {
          failed++;
          firstError ??= `${url} answered ${response.status}`;
        }
      } catch (error) {
        failed++;
        firstError ??= String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  clearInterval(timer);
  self.postMessage(
    {
      accepted,
      done: { failed, firstError, hitLimit: next >= limit },
    } satisfies ClusterPublishReport,
  );
};
