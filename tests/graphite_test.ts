import { assertEquals, assertMatch, assertThrows } from "@std/assert";
import dgram from "node:dgram";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/errors.ts";
import { openSse, startTestServer, waitFor } from "./_helpers/server.ts";

Deno.test("Graphite export sends '<prefix>.<channel> <count> <time>' lines over UDP", async () => {
  const socket = dgram.createSocket("udp4");
  const datagrams: string[] = [];
  socket.on("message", (message: Uint8Array) => datagrams.push(new TextDecoder().decode(message)));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  try {
    await using t = await startTestServer({
      export: "graphite",
      exportHost: "127.0.0.1",
      exportPort: socket.address().port,
      exportIntervalMs: 100,
      exportPath: "site",
    });
    await using _a = await openSse(`${t.origin}/?channels=base,cats`);
    await using _b = await openSse(`${t.origin}/?channels=base,my%20room`);
    await waitFor(() => t.server.hub.channelCount === 3, "subscriptions");
    await waitFor(() => datagrams.some((d) => d.includes("site.base 2")), "a datagram", 5000);
    const lines = datagrams.find((d) => d.includes("site.base 2"))!.trimEnd().split("\n").sort();
    assertEquals(lines.length, 3);
    assertMatch(lines[0], /^site\.base 2 \d{10}$/);
    assertMatch(lines[1], /^site\.cats 1 \d{10}$/);
    assertMatch(lines[2], /^site\.my_room 1 \d{10}$/);
  } finally {
    socket.close();
  }
});

Deno.test("Graphite export can use TCP", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using t = await startTestServer({
    export: "graphite",
    exportProtocol: "tcp",
    exportHost: "127.0.0.1",
    exportPort: listener.addr.port,
    exportIntervalMs: 100,
  });
  await using _sse = await openSse(`${t.origin}/?channels=news`);
  const conn = await listener.accept();
  const text = new TextDecoder().decode(
    await new Response(conn.readable).arrayBuffer().then((b) => new Uint8Array(b)),
  );
  assertMatch(text, /^sse-hub\.news 1 \d{10}\n$/);
});

Deno.test("--export graphite without host and port is a configuration error", () => {
  assertThrows(
    () => loadConfig({ args: ["--export", "graphite"], env: {} }),
    ConfigError,
    "--export-host and --export-port",
  );
});
