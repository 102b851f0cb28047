/**
 * The lean transport: Deno's built-in `node:http` server. Requests are
 * adapted to web `Request`s at the edge and go through the same handler as
 * every transport; only SSE streams take this transport's own path, writing
 * the shared event bytes straight to the socket, with no `ReadableStream`
 * per connection. About a fifth of the memory per idle connection of the
 * `Deno.serve` transport (see docs/benchmarks.md).
 *
 * @module
 */

import http from "node:http";
import { Readable } from "node:stream";
import type { Handler } from "../http/handler.ts";
import { type StreamIntent, streamIntentOf } from "../http/stream_intent.ts";
import type { CloseReason, Subscriber } from "../subscriber.ts";
import type { Listener } from "./serve.ts";

/** A subscriber that writes to a `node:http` response. */
class NodeSubscriber implements Subscriber {
  readonly id: string;
  readonly channels: readonly string[];
  readonly remote?: string;
  onClose?: (reason: CloseReason) => void;
  readonly #response: http.ServerResponse;
  readonly #limit: number;
  #closed = false;

  constructor(intent: StreamIntent, response: http.ServerResponse) {
    this.id = intent.id;
    this.channels = intent.channels;
    this.remote = intent.remote;
    this.#response = response;
    this.#limit = intent.maxBuffered;
  }

  write(bytes: Uint8Array): void {
    if (this.#closed) return;
    if (this.#response.writableLength > this.#limit) this.close("slow");
    else this.#response.write(bytes);
  }

  ready(): Promise<void> {
    const res = this.#response;
    // node:http emits "drain" only after a write found the buffer over its
    // high-water mark (64 KiB in Deno, not configurable); wait exactly then.
    if (this.#closed || !res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        res.off("drain", done);
        res.off("close", done);
        resolve();
      };
      res.on("drain", done);
      res.on("close", done);
    });
  }

  close(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    if (reason === "slow") this.#response.destroy();
    else if (reason !== "client") this.#response.end();
    this.onClose?.(reason);
  }
}

function toRequest(req: http.IncomingMessage): Request {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i], raw[i + 1]);
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  return new Request(`http://${headers.get("host") ?? "localhost"}${req.url ?? "/"}`, {
    method,
    headers,
    body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : null,
    // @ts-ignore: `duplex` is required by fetch for stream bodies but missing from Deno's RequestInit type
    duplex: "half",
  });
}

function writeStream(
  intent: StreamIntent,
  response: Response,
  res: http.ServerResponse,
): void {
  // An SSE body never ends on its own: send it unframed (ended by closing the
  // connection) so each event is one write, not three (chunk size, data, CRLF).
  res.useChunkedEncodingByDefault = false;
  res.shouldKeepAlive = false;
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.write(intent.preamble);
  const subscriber = new NodeSubscriber(intent, res);
  res.on("close", () => subscriber.close("client"));
  intent.attach(subscriber);
}

async function writeResponse(response: Response, res: http.ServerResponse): Promise<void> {
  const body = response.body ? new Uint8Array(await response.arrayBuffer()) : undefined;
  const headers = Object.fromEntries(response.headers);
  if (body) headers["content-length"] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}

/** Serves `handler` with `node:http` on `hostname:port`. */
export async function listenNode(
  handler: Handler,
  options: { hostname: string; port: number },
): Promise<Listener> {
  const server = http.createServer(async (req, res) => {
    try {
      const response = await handler(toRequest(req), {
        remoteAddr: { hostname: req.socket.remoteAddress ?? "", port: req.socket.remotePort ?? 0 },
      });
      const intent = streamIntentOf(response);
      if (intent) writeStream(intent, response, res);
      else await writeResponse(response, res);
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  // SSE responses are long-lived: no timeouts on an open response.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  const finished = new Promise<void>((resolve) => server.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname, () => {
      server.off("error", reject);
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
        setTimeout(() => server.closeAllConnections(), 100);
      }),
  };
}
