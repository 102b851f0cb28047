/**
 * Hostile input: the server answers each bad request with a 4xx/5xx and a
 * reason, never crashes, never lets input break SSE framing, and keeps
 * serving a healthy subscriber throughout.
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { concat } from "@std/bytes/concat";
import {
  openSse,
  publishJson,
  type SseStream,
  startTestServer,
  type TestServer,
  waitFor,
} from "../_helpers/server.ts";

/** A subscriber that must keep receiving while the attack runs. */
const TRANSPORTS = ["serve", "node"] as const;

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

/** UTF-8 text and raw bytes, joined. */
function bytes(...parts: (string | number[])[]): Uint8Array<ArrayBuffer> {
  return concat(
    parts.map((part) =>
      typeof part === "string" ? new TextEncoder().encode(part) : new Uint8Array(part)
    ),
  );
}

/** The reason given for a body whose bytes are not UTF-8. */
const RAW = "body is not valid UTF-8";
const field = (name: string) => `form field "${name}" is not valid UTF-8`;
const jsonData = (...raw: number[]) => bytes('{"channel": "healthy", "data": "', raw, '"}');

const MULTIPART = "multipart/form-data; boundary=b";
const multipart = (message: number[]) =>
  bytes(
    '--b\r\ncontent-disposition: form-data; name="channel"\r\n\r\nhealthy\r\n',
    '--b\r\ncontent-disposition: form-data; name="message"\r\n\r\n',
    message,
    "\r\n--b--\r\n",
  );

/** Publish bodies that are not UTF-8: what they are, content type, body, expected reason. */
const INVALID_UTF8: [string, string, BodyInit, string][] = [
  ["%FF%FE in a form value", FORM, "channel=healthy&message=%FF%FE", field("message")],
  ["%FF%FE in a form channel", FORM, "channel=%FF%FEhealthy&message=x", field("channel")],
  ["a cut-off escaped sequence", FORM, "channel=healthy&message=%E2%82", field("message")],
  ["%FF in a form field name", FORM, "channel=healthy&message=x&%FF=1", "name is not valid UTF-8"],
  ["raw 0xFF 0xFE in a form", FORM, bytes("channel=healthy&message=", [0xff, 0xfe]), RAW],
  ["raw 0xFF 0xFE in a multipart field", MULTIPART, multipart([0xff, 0xfe]), "not valid UTF-8"],
  ["raw 0xFF 0xFE in JSON", JSON_TYPE, jsonData(0xff, 0xfe), RAW],
  ["an overlong encoding in JSON", JSON_TYPE, jsonData(0xc0, 0xaf), RAW],
  ["an encoded surrogate in JSON", JSON_TYPE, jsonData(0xed, 0xa0, 0x80), RAW],
  ["a cut-off sequence ending JSON", JSON_TYPE, bytes('{"data": "x"}', [0xe2, 0x82]), RAW],
];

async function healthySubscriber(t: TestServer): Promise<SseStream> {
  const sse = await openSse(`${t.origin}/?channels=healthy`);
  await waitFor(() => t.server.hub.subscribers("healthy") === 1, "the healthy subscriber");
  return sse;
}

async function assertStillServes(t: TestServer, sse: SseStream, marker: string) {
  const { status } = await publishJson(t.origin, { channel: "healthy", data: marker });
  assertEquals(status, 200);
  assertEquals((await sse.nextEvent(10_000)).data, marker);
}

async function rawRequest(t: TestServer, request: string | Uint8Array): Promise<string> {
  const url = new URL(t.origin);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  try {
    await conn.write(typeof request === "string" ? new TextEncoder().encode(request) : request);
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    return n === null ? "" : new TextDecoder().decode(buffer.subarray(0, n));
  } finally {
    conn.close();
  }
}

for (const transport of TRANSPORTS) {
  Deno.test(`[${transport}] malformed and oversized query strings and headers get 4xx, and others keep being served`, async () => {
    await using t = await startTestServer({ transport });
    await using healthy = await healthySubscriber(t);
    for (const path of [`/?channels=${"x".repeat(100_000)}`, `/?${"channels=a&".repeat(5000)}`]) {
      // Too long for fetch to even send: written on a raw socket.
      const answer = await rawRequest(t, `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert(/^HTTP\/1\.1 4\d\d/.test(answer), `${path.length}-byte URL: ${answer.slice(0, 60)}`);
    }
    const cases: [string, RequestInit?][] = [
      ["/?channels=%FF%FE"],
      ["/?channels=a&lastEventId=1%0D%0Aid:%20forged"],
      [`/?channels=a&lastEventId=${"9".repeat(9000)}`],
      ["/?channels=a", { headers: { "last-event-id": "x".repeat(8193) } }],
    ];
    for (const [path, init] of cases) {
      const response = await fetch(t.origin + path, init);
      const body = await response.text();
      assert(
        response.status >= 400 && response.status < 500,
        `${path.slice(0, 60)}: ${response.status}`,
      );
      if (response.headers.get("content-type")?.includes("json")) {
        assert(JSON.parse(body).error.length > 10, body);
      }
    }
    const huge = await rawRequest(
      t,
      `GET /?channels=a HTTP/1.1\r\nHost: x\r\nX-Big: ${"y".repeat(200_000)}\r\n\r\n`,
    );
    assert(
      /^HTTP\/1\.1 4\d\d/.test(huge) || huge === "",
      `huge header answered: ${huge.slice(0, 40)}`,
    );
    await assertStillServes(t, healthy, "after bad queries");
  });

  Deno.test(`[${transport}] CR/LF in channel, event or id can never forge or split an event`, async () => {
    await using t = await startTestServer({ transport });
    await using sse = await openSse(`${t.origin}/?channels=a`);
    await waitFor(() => t.server.hub.subscribers("a") === 1, "subscription");
    const attempts = [
      { channel: "a\r\nevent: forged", data: "x" },
      { channel: "a", data: "x", event: "ok\r\ndata: forged" },
      { channel: "a", data: "x", event: "ok\rid: 999" },
    ];
    for (const body of attempts) assertEquals((await publishJson(t.origin, body)).status, 400);
    // Line breaks in data are allowed: they become data lines, never new fields.
    await publishJson(t.origin, {
      channel: "a",
      data: "one\r\nid: 999\n\nevent: forged\rdata: two",
    });
    const event = await sse.nextEvent();
    assertEquals(event.event, undefined);
    assertEquals(event.data, "one\nid: 999\n\nevent: forged\ndata: two");
    assert(event.id !== "999");
  });

  Deno.test(`[${transport}] huge, deeply nested or invalid JSON and wrong types get 4xx`, async () => {
    await using t = await startTestServer({ transport });
    await using healthy = await healthySubscriber(t);
    const post = (body: BodyInit, type: string) =>
      fetch(`${t.origin}/publish`, { method: "POST", headers: { "content-type": type }, body });
    const cases: [Promise<Response>, number][] = [
      [post("[".repeat(300_000) + "]".repeat(300_000), "application/json"), 413],
      [post("[".repeat(100_000) + "]".repeat(100_000), "application/json"), 400],
      [post('{"channel": "a", "data": "x"', "application/json"), 400],
      [post("null", "application/json"), 400],
      [post("channel=a&message=x", "text/plain"), 415],
      [post("channel=a&message=x", "application/xml"), 415],
      [post("--broken\r\n", "multipart/form-data; boundary=broken"), 400],
    ];
    for (const [pending, status] of cases) {
      const response = await pending;
      const body = await response.json();
      assertEquals(response.status, status, JSON.stringify(body));
      assert(body.error.length > 10, JSON.stringify(body));
    }
    await assertStillServes(t, healthy, "after bad bodies");
  });

  Deno.test(`[${transport}] invalid UTF-8 in form, multipart or JSON publish bodies gets 400 saying so, and others keep being served`, async () => {
    await using t = await startTestServer({ transport });
    await using healthy = await healthySubscriber(t);
    for (const [what, type, body, reason] of INVALID_UTF8) {
      // Every case targets the healthy channel: one that got through would reach its subscriber.
      const response = await fetch(`${t.origin}/publish`, {
        method: "POST",
        headers: { "content-type": type },
        body,
      });
      const answer = await response.json();
      assertEquals(response.status, 400, `${what}: ${JSON.stringify(answer)}`);
      assertStringIncludes(answer.error, reason, what);
    }
    await assertStillServes(t, healthy, "after invalid UTF-8");
  });

  Deno.test(`[${transport}] thousands of connections opened and dropped without a request do not disturb anyone`, async () => {
    await using t = await startTestServer({ transport });
    await using healthy = await healthySubscriber(t);
    const url = new URL(t.origin);
    for (let round = 0; round < 20; round++) {
      const conns = await Promise.all(
        Array.from(
          { length: 500 },
          () => Deno.connect({ hostname: url.hostname, port: Number(url.port) }),
        ),
      );
      for (const conn of conns) conn.close();
    }
    await assertStillServes(t, healthy, "after 10,000 empty connections");
    assertEquals(t.server.hub.subscriberCount, 1);
  });

  Deno.test(`[${transport}] half-open and slowloris connections do not stop the server from serving others`, async () => {
    await using t = await startTestServer({ transport });
    await using healthy = await healthySubscriber(t);
    const url = new URL(t.origin);
    const slow: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
        // Half a request line, or headers that never end.
        await conn.write(
          new TextEncoder().encode(
            i % 2 ? "GET /?chan" : "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n",
          ),
        );
        slow.push(conn);
      }
      await assertStillServes(t, healthy, "during slowloris");
      const other = await fetch(`${t.origin}/healthz`);
      assertEquals(other.status, 200);
      await other.body?.cancel();
    } finally {
      for (const conn of slow) conn.close();
    }
  });
}
