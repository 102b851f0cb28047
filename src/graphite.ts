/**
 * Graphite export, as cyclone-sse did it: every interval, one line per
 * non-empty channel, `<prefix>.<channel> <subscribers> <unix seconds>`, sent
 * as one UDP datagram (cyclone-sse's way) or over TCP. Nothing is sent while
 * there are no channels; the first send is one interval after the start.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { Buffer } from "node:buffer";
import dgram from "node:dgram";
import type { Hub } from "./hub.ts";

const log = getLogger(["sse-hub", "graphite"]);

/** Where and how to export. */
export interface GraphiteOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: "udp" | "tcp";
  readonly intervalMs: number;
  /** Metric path prefix, e.g. `sse-hub`. */
  readonly prefix: string;
}

/** Characters Graphite paths can hold; anything else in a channel name becomes `_`. */
const UNSAFE = /[^A-Za-z0-9_.:-]/g;

/** The plaintext lines for the hub's channels now ("" when there are none). */
export function graphiteLines(hub: Hub, prefix: string, now: number = Date.now()): string {
  const path = prefix.endsWith(".") ? prefix : `${prefix}.`;
  const seconds = Math.floor(now / 1000);
  return hub.stats()
    .map(([channel, count]) => `${path}${channel.replace(UNSAFE, "_")} ${count} ${seconds}\n`)
    .join("");
}

/** Starts the periodic export; `stop()` ends it. */
export function startGraphiteExport(hub: Hub, options: GraphiteOptions): { stop(): void } {
  const socket = options.protocol === "udp" ? dgram.createSocket("udp4") : undefined;
  socket?.on("error", (error: Error) => log.warning("graphite: {error}", { error: error.message }));
  const send = async () => {
    const lines = graphiteLines(hub, options.prefix);
    if (lines === "") return;
    try {
      if (socket) {
        socket.send(Buffer.from(lines), options.port, options.host);
      } else {
        const conn = await Deno.connect({ hostname: options.host, port: options.port });
        try {
          await conn.write(new TextEncoder().encode(lines));
        } finally {
          conn.close();
        }
      }
    } catch (error) {
      log.warning("graphite export to {host}:{port} failed: {error}", {
        host: options.host,
        port: options.port,
        error: (error as Error).message,
      });
    }
  };
  const timer = setInterval(send, options.intervalMs);
  return {
    stop() {
      clearInterval(timer);
      socket?.close();
    },
  };
}
