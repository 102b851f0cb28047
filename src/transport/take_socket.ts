/**
 * Taking an SSE connection's socket away from `node:http` once the response
 * head is sent, as `node:http` itself hands a socket over on an HTTP upgrade.
 * An open stream then keeps only its socket: not the request, the response
 * (with its head string), the HTTP parser, nor the server's per-connection
 * listeners and bookkeeping: the server holds 7.4 KB per idle stream instead
 * of 10.5 KB (RSS at 10,000 streams once the GC has settled, see
 * docs/benchmarks.md).
 *
 * This reaches into `node:http`'s internals (listener names, the parser, the
 * server's connection list), which Deno mirrors from Node's `_http_server`.
 * Every one is checked first; when one is not as expected, nothing is
 * touched and {@linkcode takeSocket} returns `false`, so the stream goes on
 * through the response object as before (correct, only heavier). A test
 * fails loudly when that happens on the Deno in use.
 *
 * @module
 */

import type http from "node:http";
import type { Duplex } from "node:stream";

/** The listeners `node:http` puts on a connection's socket, by event, as their functions are named. */
const SERVER_LISTENERS: Readonly<Record<string, string>> = {
  data: "bound socketOnData",
  end: "bound socketOnEnd",
  close: "bound socketOnClose",
  drain: "bound socketOnDrain",
  error: "socketOnError",
  timeout: "socketOnTimeout",
};
/** The listener by which the server's connection list forgets a closed socket. */
const LIST_LISTENER = "onConnectionClose";

type Listener = (...args: unknown[]) => void;

interface ConnectionList {
  remove(socket: unknown): void;
}

interface HttpParser {
  close(): void;
  /** Hands the socket's reads back to JavaScript (the parser reads it natively while `_consumed`). */
  unconsume?(): void;
}

/** What taking a socket needs, found on the live objects, or why it cannot be done. */
interface Parts {
  readonly listeners: readonly [string, Listener][];
  readonly list: ConnectionList;
  readonly parser: HttpParser & Record<string, unknown>;
}

function connectionList(server: http.Server): ConnectionList | undefined {
  const key = Object.getOwnPropertySymbols(server)
    .find((symbol) => symbol.description === "http.server.connections");
  const list = key && (server as unknown as Record<symbol, unknown>)[key];
  return typeof (list as ConnectionList | undefined)?.remove === "function"
    ? list as ConnectionList
    : undefined;
}

/** `node:http`'s parts of this connection, or a reason why they are not as this module expects. */
export function findParts(
  server: http.Server,
  res: http.ServerResponse,
  socket: Duplex,
): Parts | string {
  const listeners: [string, Listener][] = [];
  for (const [event, name] of [...Object.entries(SERVER_LISTENERS), ["close", LIST_LISTENER]]) {
    const found = socket.listeners(event).filter((f) => f.name === name) as Listener[];
    if (found.length !== 1) return `socket has ${found.length} "${event}" listeners named ${name}`;
    listeners.push([event, found[0]]);
  }
  const list = connectionList(server);
  if (!list) return "server has no connection list (Symbol(http.server.connections))";
  const parser = (socket as unknown as { parser?: HttpParser & Record<string, unknown> }).parser;
  if (typeof parser?.close !== "function") return "socket has no HTTP parser with close()";
  if (parser._consumed && typeof parser.unconsume !== "function") {
    return "HTTP parser consumes the socket and has no unconsume()";
  }
  const output = (res as unknown as { outputData?: unknown[] }).outputData;
  if (!res.headersSent || !Array.isArray(output) || output.length !== 0) {
    return "response head is not on the socket yet";
  }
  if (res.socket !== socket || typeof res.detachSocket !== "function") {
    return "response is not attached to the socket";
  }
  return { listeners, list, parser };
}

/**
 * Detaches `res`'s socket from `node:http` after its head (and anything
 * else written) went to the socket: from then on the caller owns the
 * socket; what the client sends is read and dropped, and its end, or a
 * socket error, destroys the socket. Returns `false`, touching nothing, if
 * `node:http`'s internals are not as expected (see the module doc).
 *
 * @example Streaming on the bare socket
 * ```ts ignore
 * res.writeHead(200, { "content-type": "text/event-stream" });
 * res.write(": hello\n\n");
 * if (takeSocket(server, res, res.socket!)) socket.write("data: hi\n\n");
 * ```
 */
export function takeSocket(server: http.Server, res: http.ServerResponse, socket: Duplex): boolean {
  const parts = findParts(server, res, socket);
  if (typeof parts === "string") return false;
  for (const [event, listener] of parts.listeners) socket.removeListener(event, listener);
  parts.list.remove(socket);
  res.detachSocket(socket as Parameters<http.ServerResponse["detachSocket"]>[0]);
  const { parser } = parts;
  if (parser._consumed) parser.unconsume!();
  (socket as unknown as { parser: unknown }).parser = null;
  for (const key of ["socket", "incoming", "outgoing", "onIncoming"]) parser[key] = null;
  parser.close();
  // node:http's server sockets are half-open: its own "end" listener closed
  // them when the client finished sending. A stream's client that ends has
  // gone; so has one whose socket fails.
  socket.once("end", () => socket.destroy());
  socket.on("error", () => socket.destroy());
  socket.resume();
  return true;
}
