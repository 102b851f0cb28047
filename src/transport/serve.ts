/**
 * The default transport: `Deno.serve`, with SSE streams as `ReadableStream`
 * response bodies.
 *
 * @module
 */

import type { Handler } from "../http/handler.ts";
import { streamIntentOf } from "../http/stream_intent.ts";
import { openStream } from "./stream.ts";

/** A listening server. */
export interface Listener {
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: { readonly hostname: string; readonly port: number };
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
  /** Stops accepting; resolves when every connection has ended. */
  shutdown(): Promise<void>;
}

/** Turns a route's response into what Deno.serve sends: stream intents become stream bodies. */
export function realize(response: Response): Response {
  const intent = streamIntentOf(response);
  if (!intent) return response;
  return new Response(openStream(intent), {
    status: response.status,
    headers: response.headers,
  });
}

/** Serves `handler` with `Deno.serve` on `hostname:port`; with `tls`, HTTPS (HTTP/2 by ALPN). */
export function listenServe(
  handler: Handler,
  options: { hostname: string; port: number; tls?: { cert: string; key: string } },
): Listener {
  const server = Deno.serve({
    hostname: options.hostname,
    port: options.port,
    ...options.tls,
    onListen() {},
  }, async (request, info) => {
    const { hostname, port } = info.remoteAddr as Deno.NetAddr;
    return realize(await handler(request, { remoteAddr: { hostname, port } }));
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}
