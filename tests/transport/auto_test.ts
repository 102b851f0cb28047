/**
 * The default transport, and the node:http internals the lean transport
 * relies on: if a Deno upgrade changes them, these fail loudly.
 */

import { assert, assertEquals } from "@std/assert";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { defaultConfig } from "../../src/config/options.ts";
import { resolveTransport } from "../../src/server.ts";
import { startTestServer } from "../_helpers/server.ts";

Deno.test("the default transport is node:http for plain HTTP and Deno.serve with TLS", () => {
  const config = defaultConfig();
  assertEquals(config.transport, "auto");
  assertEquals(resolveTransport(config), "node");
  assertEquals(resolveTransport({ ...config, cert: "c.pem", key: "k.pem" }), "serve");
  assertEquals(resolveTransport({ ...config, transport: "serve" }), "serve");
});

Deno.test("a server started with the defaults serves streams through node:http", async () => {
  await using t = await startTestServer();
  assertEquals(t.server.transport, "node");
});

Deno.test("node:http still has the internals the node transport uses (_header, socket, framing flags)", async () => {
  const seen = Promise.withResolvers<Record<string, unknown>>();
  const server = http.createServer((_req, res) => {
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write("retry: 1\n\n");
    const head = (res as unknown as { _header?: unknown })._header;
    seen.resolve({ head, socket: res.socket !== null, cork: typeof res.socket?.cork });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const body = await response.text();
  const facts = await seen.promise;
  await new Promise((resolve) => server.close(resolve));
  assert(
    typeof facts.head === "string" && facts.head.startsWith("HTTP/1.1 200"),
    `ServerResponse._header is no longer the head string (got ${typeof facts.head}): ` +
      "src/transport/node.ts flattenHead() must change",
  );
  assertEquals(facts.socket, true, "ServerResponse.socket is missing");
  assertEquals(facts.cork, "function", "socket.cork() is missing: the flusher relies on it");
  assertEquals(
    response.headers.get("transfer-encoding"),
    null,
    "unframed bodies are chunked again",
  );
  assertEquals(body, "retry: 1\n\n");
});
