/**
 * The default transport: `Deno.serve`, with SSE streams as `ReadableStream`
 * response bodies.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Handler } from "../http/handler.ts";
import { streamIntentOf } from "../http/stream_intent.ts";
import { openStream, type OpenStreamOptions, StreamEnd } from "./stream.ts";

const log = getLogger(["sse-hub", "http"]);

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
export function realize(response: Response, options: OpenStreamOptions = {}): Response {
  const intent = streamIntentOf(response);
  if (!intent) return response;
  return new Response(openStream(intent, options), {
    status: response.status,
    headers: response.headers,
  });
}

/**
 * Deno.serve's error handler, which also receives the error of a response
 * body stream: a {@linkcode StreamEnd} is how a stream ends its connection
 * (see ./stream.ts), so it is expected, and only a cut-off slow client is
 * worth a line; anything else is a real error.
 */
export function onServeError(error: unknown): Response {
  if (error instanceof StreamEnd) {
    if (error.reason === "slow") log.warn("{message}", { message: error.message });
  } else {
    log.error("unexpected error: {error}", { error });
  }
  return new Response("internal server error", { status: 500 });
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
    onError: onServeError,
  }, async (request, info) => {
    const { hostname, port } = info.remoteAddr as Deno.NetAddr;
    const response = await handler(request, { remoteAddr: { hostname, port } });
    return realize(response, { endConnection: true });
  });
  const addr = server.addr as Deno.NetAddr;
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    finished: server.finished,
    shutdown: () => server.shutdown(),
  };
}
