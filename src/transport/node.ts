/**
 * The lean transport: Deno's built-in `node:http` server. Requests are
 * adapted to web `Request`s at the edge and go through the same handler as
 * every transport; only SSE streams take this transport's own path, writing
 * the shared event bytes straight to the socket, with no `ReadableStream`
 * per connection, and writes coalesced under load (see ./flusher.ts). Once
 * its head is sent, a stream's socket is taken from `node:http` (see
 * ./take_socket.ts), so an idle stream holds its socket and little else: about
 * an eighth of the memory per idle connection of the `Deno.serve` transport,
 * and less than nchan (see docs/benchmarks.md).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import http from "node:http";
import { type Duplex, Readable } from "node:stream";
import type { Handler } from "../http/handler.ts";
import { type StreamIntent, streamIntentOf } from "../http/stream_intent.ts";
import { Flusher } from "./flusher.ts";
import { IoYield } from "./io_yield.ts";
import { NodeSubscriber } from "./node_subscriber.ts";
import type { Listener } from "./serve.ts";
import { findParts, takeSocket } from "./take_socket.ts";

const log = getLogger(["sse-hub", "http"]);

/**
 * The web `Request` for a `node:http` request. Its `signal` aborts when the
 * connection closes before the response has been sent (the client went
 * away), as Deno.serve's does; a waiting long-poll listens to it.
 */
function toRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
): { request: Request; release(): void } {
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort();
  };
  res.once("close", onClose);
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const request = new Request(`http://${headers.get("host") ?? "localhost"}${req.url ?? "/"}`, {
    method,
    headers,
    body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : null,
    signal: gone.signal,
    // @ts-ignore: `duplex` is required by fetch for stream bodies but missing from Deno's RequestInit type
    duplex: "half",
  });
  // A stream outlives its request: the listener would keep the controller,
  // and through its signal the whole Request, for as long as the stream is
  // open (about 2 KB a connection, measured).
  return { request, release: () => res.removeListener("close", onClose) };
}

/**
 * The response keeps its head as the string it was built into, a rope of
 * about 24 concatenations (~0.8 KB); reading a character of it makes V8
 * flatten it into one string of its length, for as long as the stream stays
 * open. Only for a response that keeps its socket.
 */
function flattenHead(res: http.ServerResponse): void {
  const head = (res as { _header?: unknown })._header;
  if (typeof head === "string") head.charCodeAt(0);
}

/** Where `node:http` could not give up a stream's socket, said once. */
let fallbackLogged = false;

function writeStream(
  intent: StreamIntent,
  response: Response,
  res: http.ServerResponse,
  server: http.Server,
  taken: Set<Duplex>,
  flusher: Flusher,
): void {
  const socket = res.socket;
  // The client left while the route ran: there is no one to stream to.
  if (!socket || socket.destroyed) return;
  // An SSE body never ends on its own: send it unframed (ended by closing the
  // connection) so each event is one write, not three (chunk size, data, CRLF).
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.write(intent.preamble);
  const owned = takeSocket(server, res, socket);
  if (owned) {
    taken.add(socket);
    socket.once("close", () => taken.delete(socket));
  } else {
    flattenHead(res);
    if (!fallbackLogged) {
      fallbackLogged = true;
      log.warn(
        "node:http's internals are not as expected ({reason}); streams keep node:http's per-connection state (about 3 KB more each)",
        { reason: findParts(server, res, socket) },
      );
    }
  }
  const subscriber = new NodeSubscriber(intent, owned ? undefined : res, socket, flusher);
  (owned ? socket : res).once("close", () => subscriber.close("client"));
  intent.attach(subscriber);
}

async function writeResponse(response: Response, res: http.ServerResponse): Promise<void> {
  const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  const headers = Object.fromEntries(response.headers);
  if (body) headers["content-length"] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}

/** How long `node:http` waits for slow clients, in milliseconds. */
export interface NodeTimeouts {
  /** From the connection (or the next request's first byte) to the end of the request head. */
  readonly headerMs: number;
  /** For the request body, after its head. */
  readonly bodyMs: number;
  /** Between requests on a keep-alive connection. */
  readonly keepAliveMs: number;
}

/**
 * The `node:http` server options for `timeouts`. `requestTimeout` counts from
 * the request's start, so it is head and body together: a backstop while a
 * route has not yet answered (the routes that read a body answer 408
 * themselves, see `readBytes`). Both are checked every `connectionsCheckingInterval`
 * over the requests still arriving only, so a short interval is cheap and
 * keeps a timeout from overshooting by much (Node's default is 30 s).
 * Requests that have all arrived, as every open stream has, are never timed
 * out. The keep-alive timeout arms once a response has been sent; Deno's
 * `node:http`, as Node's, closes the idle socket 1 s after it, the grace for
 * a request the client sent just as it ran out.
 */
export function nodeServerOptions(timeouts: NodeTimeouts): http.ServerOptions {
  const { headerMs, bodyMs, keepAliveMs } = timeouts;
  return {
    headersTimeout: headerMs,
    requestTimeout: headerMs + bodyMs,
    keepAliveTimeout: keepAliveMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.min(headerMs, bodyMs) / 4)),
  };
}

/**
 * A body no route read (a POST to an unknown path, say) is read and dropped
 * by `node:http` after the answer, so that the connection can serve the next
 * request; but no timeout covers that: `requestTimeout` stops counting once
 * the answer is sent, and each byte that arrives restarts the keep-alive
 * timer (measured: a body trickling in after its 404 held the connection
 * past 8 s with 500 ms timeouts). Give the rest of it `bodyMs`, then drop
 * the connection.
 */
function boundUnreadBody(req: http.IncomingMessage, bodyMs: number): void {
  if (req.complete) return;
  const timer = setTimeout(() => req.socket.destroy(), bodyMs);
  const done = () => clearTimeout(timer);
  req.once("end", done);
  req.socket.once("close", done);
}

/** Serves `handler` with `node:http` on `hostname:port`. */
export async function listenNode(
  handler: Handler,
  options: { hostname: string; port: number; timeouts: NodeTimeouts },
): Promise<Listener> {
  // node:http's listen throws a missing permission from a later tick, where
  // no caller can catch it: ask first, and fail here as Deno.serve would.
  const host = `${options.hostname}:${options.port}`;
  if (Deno.permissions.querySync({ name: "net", host }).state !== "granted") {
    throw new Deno.errors.NotCapable(
      `Requires net access to "${host}", run again with the --allow-net flag`,
    );
  }
  const io = await IoYield.open();
  const flusher = new Flusher(() => io.wait());
  /** Stream sockets taken from `node:http`: its `closeAllConnections` no longer knows them. */
  const taken = new Set<Duplex>();
  const server = http.createServer(nodeServerOptions(options.timeouts), async (req, res) => {
    try {
      const { request, release } = toRequest(req, res);
      const response = await handler(request, {
        remoteAddr: { hostname: req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0 },
      });
      const intent = streamIntentOf(response);
      if (intent) {
        release();
        writeStream(intent, response, res, server, taken, flusher);
      } else {
        await writeResponse(response, res);
        boundUnreadBody(req, options.timeouts.bodyMs);
      }
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  const finished = new Promise<void>((resolve) =>
    server.once("close", () => {
      io[Symbol.dispose]();
      resolve();
    })
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => {
      io[Symbol.dispose]();
      reject(error);
    });
    server.listen(options.port, options.hostname, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") {
    throw new Error(`node:http server has no TCP address: ${address}`);
  }
  return {
    addr: { hostname: address.address, port: address.port },
    finished,
    shutdown: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Streams are ended by the hub right after this; then drop what is left.
        setTimeout(() => {
          server.closeAllConnections();
          for (const socket of taken) socket.destroy();
        }, 100);
      }),
  };
}
