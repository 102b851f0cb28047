import { assertEquals } from "@std/assert";
import { startTestServer, waitFor } from "../_helpers/server.ts";

/**
 * Sockets of this process bound locally to `port` (Linux: /proc/net/tcp
 * rows with that local port and an inode; a socket the process has let go
 * keeps its row, without an inode, until the kernel is done with it).
 */
function openSocketsOn(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] !== "0A" && f[9] !== "0")
    .length;
}

/** A raw client that opens a stream and never closes its side. */
async function openStubbornClient(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(`GET /?channels=news HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
  );
  const buffer = new Uint8Array(4096);
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error(`stream closed before its head: ${head}`);
    head += new TextDecoder().decode(buffer.subarray(0, n));
  }
  return conn;
}

Deno.test({
  name:
    "[node] a stream the server ends lets its socket go even when the client never closes its side",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await using test = await startTestServer({ transport: "node" });
    const port = test.server.url.port ? Number(test.server.url.port) : 80;
    const clients = [await openStubbornClient(port), await openStubbornClient(port)];
    try {
      await waitFor(() => test.server.hub.subscriberCount === 2, "two subscribers");
      assertEquals(openSocketsOn(port), 2);
      test.server.hub.disconnect(() => true, "kicked");
      await waitFor(() => openSocketsOn(port) === 0, "the server to let both sockets go", 3000);
    } finally {
      for (const conn of clients) conn.close();
    }
  },
});
