import { assert, assertEquals, assertFalse } from "@std/assert";
import http from "node:http";
import type { Duplex } from "node:stream";
import { findParts, takeSocket } from "../../src/transport/take_socket.ts";

interface Served extends AsyncDisposable {
  readonly server: http.Server;
  /** Opens a stream: the client's response, and the server's response and socket once its head is on the socket. */
  open(): Promise<{ response: Response; res: http.ServerResponse; socket: Duplex }>;
}

/** A node:http server whose requests each get a stream head and wait for the test. */
async function serve(): Promise<Served> {
  const waiting: ((value: { res: http.ServerResponse; socket: Duplex }) => void)[] = [];
  const sockets = new Set<Duplex>();
  const server = http.createServer((_req, res) => {
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(": open\n\n");
    sockets.add(res.socket!);
    waiting.shift()?.({ res, socket: res.socket! });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    server,
    async open() {
      const opened = new Promise<{ res: http.ServerResponse; socket: Duplex }>((resolve) =>
        waiting.push(resolve)
      );
      const response = await fetch(`http://127.0.0.1:${port}/`);
      return { response, ...await opened };
    },
    async [Symbol.asyncDispose]() {
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Reads `stream` until its text includes `text`. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string) {
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before "${text}"; got ${JSON.stringify(seen)}`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

Deno.test("node:http still has every part that taking a stream's socket relies on", async () => {
  await using served = await serve();
  const { response, res, socket } = await served.open();
  const parts = findParts(served.server, res, socket);
  // When this fails after a Deno upgrade, the node transport still works but
  // each stream keeps node:http's state: see src/transport/take_socket.ts.
  assert(
    typeof parts !== "string",
    `node:http internals changed, streams can no longer be taken over: ${parts}`,
  );
  await response.body?.cancel();
});

Deno.test("a taken socket is no longer known to node:http: no server listeners, parser, response or connection entry", async () => {
  await using served = await serve();
  const { response, res, socket } = await served.open();
  assert(takeSocket(served.server, res, socket));
  const names = socket.eventNames().flatMap((event) => socket.listeners(event).map((f) => f.name));
  for (const name of ["socketOnData", "socketOnEnd", "socketOnClose", "socketOnDrain"]) {
    assertFalse(names.some((n) => n.endsWith(name)), `${name} is still listening`);
  }
  assertFalse(names.includes("onConnectionClose"), "the connection list still tracks the socket");
  assertEquals((socket as unknown as { parser: unknown }).parser, null);
  assertEquals((socket as unknown as { _httpMessage: unknown })._httpMessage, null);
  assertEquals(res.socket, null);
  await response.body?.cancel();
});

Deno.test("a taken socket carries what is written to it after the head, and closes when the client leaves", async () => {
  await using served = await serve();
  const { response, res, socket } = await served.open();
  assert(takeSocket(served.server, res, socket));
  const closed = new Promise((resolve) => socket.once("close", resolve));
  socket.write("data: after\n\n");
  const reader = response.body!.getReader();
  const seen = await readUntil(reader, "data: after\n\n");
  assertEquals(seen, ": open\n\ndata: after\n\n");
  assertEquals(response.headers.get("content-type"), "text/event-stream");
  await reader.cancel();
  await closed;
});

Deno.test("takeSocket touches nothing and answers false when a node:http part is not as expected", async () => {
  await using served = await serve();
  const { response, res, socket } = await served.open();
  const timeout = socket.listeners("timeout");
  socket.removeAllListeners("timeout");
  const before = socket.eventNames().map((event) => [event, socket.listenerCount(event)]);
  assertFalse(takeSocket(served.server, res, socket));
  assertEquals(socket.eventNames().map((event) => [event, socket.listenerCount(event)]), before);
  assert(res.socket === socket, "the response lost its socket");
  for (const listener of timeout) socket.on("timeout", listener as () => void);
  await response.body?.cancel();
});
