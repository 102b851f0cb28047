/**
 * The worker side of {@linkcode Publisher}: sends each publish request of a
 * burst, reporting its absolute send time before sending it.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import type { BurstOrder, BurstReport } from "./publisher.ts";
import { sendPublish } from "./targets.ts";

const report = (message: BurstReport) => self.postMessage(message);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

self.onmessage = async ({ data }: MessageEvent<BurstOrder>) => {
  const { requests, intervalMs } = data;
  const startedAt = performance.now();
  try {
    for (let i = 0; i < requests.length; i++) {
      const due = startedAt + i * intervalMs;
      if (due > performance.now()) await sleep(due - performance.now());
      report({ index: i, sentAt: performance.timeOrigin + performance.now() });
      await sendPublish(requests[i]);
    }
    report({ done: true });
  } catch (error) {
    report({ done: true, error: String(error) });
  }
};
