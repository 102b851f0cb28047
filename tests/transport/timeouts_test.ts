/**
 * Slow clients are timed out (--header-timeout, --body-timeout,
 * --keepalive-timeout) and open event streams are not. Each test opens a
 * stream first, then plays a slow client over a raw TCP socket, and checks
 * that the stream still gets an event published after the slow client was
 * dealt with. The timeouts are set small; the bound a test waits is well
 * under what the server allowed before (30 s for a head, 6 s for an idle
 * connection, forever for a body).
 *
 * Deno.serve offers no way to time out a request head or an idle
 * connection (see docs/operations.md), so those tests run on `node` only.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import {
  openSse,
  publishJson,
  type SseStream,
  startTestServer,
  type TestServer,
  waitFor,
} from "../_helpers/server.ts";

const TIMEOUTS = { headerTimeoutMs: 300, bodyTimeoutMs: 300, keepaliveTimeoutMs: 300 };
/** How long a test waits for the server to act on a slow client. */
const BOUND_MS = 4000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A server with small timeouts and a stream already open on channel `live`. */
async function serverWithStream(
  transport: "serve" | "node",
): Promise<{ t: TestServer; sse: SseStream } & AsyncDisposable> {
  const t = await startTestServer({ transport, ...TIMEOUTS });
  const sse = await openSse(`${t.origin}/?channels=live`);
  await waitFor(() => t.server.hub.subscribers("live") === 1, "the stream's subscription");
  return {
    t,
    sse,
    async [Symbol.asyncDispose]() {
      await sse.close();
      await t[Symbol.asyncDispose]();
    },
  };
}

/** Publishes on `live` and asserts the stream opened before gets the event. */
async function assertStreamStillReceives({ t, sse }: { t: TestServer; sse: SseStream }) {
  const { body } = await publishJson(t.origin, { channel: "live", data: "still here" });
  assertEquals(body.delivered, 1, "the open stream was closed along with the slow client");
  const event = await sse.nextEvent();
  assertEquals([event.id, event.data], [body.id, "still here"]);
}

function connect(t: TestServer): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: t.server.url.hostname, port: Number(t.server.url.port) });
}

/**
 * Reads `conn` until `until(text)` holds for what arrived (by default: the
 * server closed it) and returns the text; fails after {@linkcode BOUND_MS}.
 */
async function readUntil(
  conn: Deno.Conn,
  what: string,
  until?: (text: string) => boolean,
): Promise<string> {
  let text = "";
  let closed = false;
  let gaveUp = false;
  const timer = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, BOUND_MS);
  try {
    const buffer = new Uint8Array(4096);
    while (!until?.(text)) {
      const n = await conn.read(buffer).catch(() => null);
      if (n === null) {
        closed = !gaveUp;
        break;
      }
      text += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  if (until) assert(until(text), `${what} within ${BOUND_MS} ms; got ${JSON.stringify(text)}`);
  else assert(closed, `${what} within ${BOUND_MS} ms; got ${JSON.stringify(text)}`);
  if (!closed && !gaveUp) conn.close();
  return text;
}

/** Writes `bytes` every `everyMs` until stopped or the connection fails. */
function drip(conn: Deno.Conn, bytes: string, everyMs: number): () => void {
  const timer = setInterval(() => {
    conn.write(encoder.encode(bytes)).catch(() => clearInterval(timer));
  }, everyMs);
  return () => clearInterval(timer);
}

const SLOW_BODY_HEAD = "POST /publish HTTP/1.1\r\nHost: x\r\n" +
  "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n" + '{"channel":"live","data":"';
const CHUNKED_HEAD = "POST /publish HTTP/1.1\r\nHost: x\r\n" +
  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + '6\r\n{"chan\r\n';

Deno.test("[node] a request head that trickles in is closed after --header-timeout, and an open stream is not", async () => {
  await using s = await serverWithStream("node");
  const conn = await connect(s.t);
  await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  const stop = drip(conn, "X-Slow: 1\r\n", 50);
  const text = await readUntil(conn, "the server closes a connection whose head never ends");
  stop();
  assertStringIncludes(text, "408");
  await assertStreamStillReceives(s);
});

Deno.test("[node] a connection that sends nothing is closed after --header-timeout", async () => {
  await using s = await serverWithStream("node");
  const conn = await connect(s.t);
  await readUntil(conn, "the server closes a connection that never sends a request");
  await assertStreamStillReceives(s);
});

for (const transport of ["serve", "node"] as const) {
  Deno.test(`[${transport}] a publish body sent slowly gets 408 after --body-timeout, and an open stream is not timed out`, async () => {
    await using s = await serverWithStream(transport);
    const conn = await connect(s.t);
    await conn.write(encoder.encode(SLOW_BODY_HEAD));
    const stop = drip(conn, "a", 50);
    const text = await readUntil(
      conn,
      "the server answers 408 to a body that trickles in",
      (text) => text.includes("--body-timeout"),
    );
    stop();
    assert(text.startsWith("HTTP/1.1 408 "), text);
    assertEquals(s.t.server.hub.subscribers("live"), 1);
    await assertStreamStillReceives(s);
  });

  Deno.test(`[${transport}] an unterminated chunked publish body gets 408 after --body-timeout`, async () => {
    await using s = await serverWithStream(transport);
    const conn = await connect(s.t);
    await conn.write(encoder.encode(CHUNKED_HEAD));
    const text = await readUntil(
      conn,
      "the server answers 408 to a chunked body that never ends",
      (text) => text.includes("--body-timeout"),
    );
    assert(text.startsWith("HTTP/1.1 408 "), text);
    assertStringIncludes(text.toLowerCase(), "connection: close");
    await assertStreamStillReceives(s);
  });
}

Deno.test("[node] the connection of a body that never ends is closed after its 408", async () => {
  await using s = await serverWithStream("node");
  const conn = await connect(s.t);
  await conn.write(encoder.encode(CHUNKED_HEAD));
  const text = await readUntil(conn, "the server closes the connection of a body that never ends");
  assert(text.startsWith("HTTP/1.1 408 "), text);
  await assertStreamStillReceives(s);
});

Deno.test("[node] an idle keep-alive connection is closed after --keepalive-timeout, and an open stream is not", async () => {
  await using s = await serverWithStream("node");
  const conn = await connect(s.t);
  await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  const text = await readUntil(conn, "the server closes an idle keep-alive connection");
  assert(text.startsWith("HTTP/1.1 200 "), text);
  await assertStreamStillReceives(s);
});

Deno.test("[node] a body that no route reads and that trickles in is closed after --body-timeout", async () => {
  await using s = await serverWithStream("node");
  const conn = await connect(s.t);
  await conn.write(
    encoder.encode("POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc"),
  );
  const stop = drip(conn, "a", 50);
  const text = await readUntil(conn, "the server closes the connection of an unread body");
  stop();
  assert(text.startsWith("HTTP/1.1 404 "), text);
  await assertStreamStillReceives(s);
});
