import { assert, assertEquals, assertMatch } from "@std/assert";
import http from "node:http";
import { openSse, publishForm, publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("a cyclone-sse form publish reaches the channel's subscribers verbatim", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=base`);
  await waitFor(() => t.server.hub.subscribers("base") === 1, "subscription");
  const { status, body } = await publishForm(t.origin, [["channel", "base"], [
    "message",
    "[123, 124]",
  ]]);
  assertEquals(status, 200);
  assertEquals(body.status, "ok");
  assertEquals(body.delivered, 1);
  assertMatch(body.id as string, /^\d+-\d+$/);
  const event = await sse.nextEvent();
  assertEquals([event.id, event.data], [body.id, "[123, 124]"]);
});

Deno.test("a repeated form channel field publishes to every channel once", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a,b`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  const { body } = await publishForm(t.origin, [["channel", "a"], ["channel", "b"], [
    "message",
    "x",
  ]]);
  assertEquals(body.delivered, 1);
  await publishForm(t.origin, [["channel", "a"], ["message", "next"]]);
  assertEquals((await sse.events(2)).map((e) => e.data), ["x", "next"]);
});

Deno.test("a multipart form publish is accepted", async () => {
  await using t = await startTestServer();
  const form = new FormData();
  form.append("channel", "a");
  form.append("message", "hello");
  const response = await fetch(`${t.origin}/publish`, { method: "POST", body: form });
  assertEquals(response.status, 200);
  assertEquals((await response.json()).status, "ok");
});

Deno.test("a JSON publish carries the event type and string data unchanged", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  await publishJson(t.origin, { channel: "a", data: "line 1\nline 2", event: "update" });
  const event = await sse.nextEvent();
  assertEquals([event.event, event.data], ["update", "line 1\nline 2"]);
});

Deno.test("non-string JSON data is serialized to JSON text", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  await publishJson(t.origin, { channel: ["a"], data: { n: 1, list: ["x"] } });
  assertEquals(JSON.parse((await sse.nextEvent()).data!), { n: 1, list: ["x"] });
});

Deno.test("a publish to a channel nobody listens to succeeds with zero deliveries", async () => {
  await using t = await startTestServer();
  const { status, body } = await publishJson(t.origin, { channel: "empty", data: "x" });
  assertEquals([status, body.delivered], [200, 0]);
});

async function expectError(
  response: Promise<{ status: number; body: Record<string, unknown> }>,
  status: number,
  message: string,
) {
  const result = await response;
  assertEquals(result.status, status, JSON.stringify(result.body));
  assertEquals(result.body.status, "error");
  assert(
    String(result.body.error).includes(message),
    `expected "${message}" in ${result.body.error}`,
  );
}

Deno.test("a publish without a channel gets 400", async () => {
  await using t = await startTestServer();
  await expectError(publishForm(t.origin, [["message", "x"]]), 400, "no channel");
  await expectError(publishJson(t.origin, { data: "x" }), 400, "no channel");
});

Deno.test("a publish with an empty message gets 400", async () => {
  await using t = await startTestServer();
  await expectError(publishForm(t.origin, [["channel", "a"], ["message", ""]]), 400, "empty");
  await expectError(publishJson(t.origin, { channel: "a" }), 400, "empty");
  await expectError(publishJson(t.origin, { channel: "a", data: null }), 400, "empty");
});

Deno.test("a publish to an invalid channel name gets 400", async () => {
  await using t = await startTestServer();
  await expectError(publishJson(t.origin, { channel: "a\nb", data: "x" }), 400, "control");
  await expectError(publishJson(t.origin, { channel: 5, data: "x" }), 400, '"channel"');
});

Deno.test("an event type with a line break gets 400 and nothing is sent", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  await expectError(
    publishJson(t.origin, { channel: "a", data: "x", event: "ok\ndata: forged" }),
    400,
    "single line",
  );
  await publishJson(t.origin, { channel: "a", data: "after" });
  const event = await sse.nextEvent();
  assertEquals([event.event, event.data], [undefined, "after"]);
});

Deno.test("invalid JSON gets 400 naming the parse error", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"channel": "a",',
  });
  assertEquals(response.status, 400);
  assert((await response.json()).error.includes("not valid JSON"));
});

Deno.test("with --publish-key, a missing or wrong key gets 401", async () => {
  await using t = await startTestServer({ publishKey: "s3cret" });
  await expectError(publishForm(t.origin, [["channel", "a"], ["message", "x"]]), 401, "required");
  await expectError(
    publishForm(t.origin, [["channel", "a"], ["message", "x"], ["key", "nope"]]),
    401,
    "wrong",
  );
  await expectError(
    publishJson(t.origin, { channel: "a", data: "x" }, { authorization: "Bearer nope" }),
    401,
    "wrong",
  );
});

Deno.test("the publish key is accepted as form key, Bearer token or X-Publish-Key", async () => {
  await using t = await startTestServer({ publishKey: "s3cret" });
  const ok = [
    await publishForm(t.origin, [["channel", "a"], ["message", "x"], ["key", "s3cret"]]),
    await publishJson(t.origin, { channel: "a", data: "x", key: "s3cret" }),
    await publishJson(t.origin, { channel: "a", data: "x" }, { authorization: "Bearer s3cret" }),
    await publishJson(t.origin, { channel: "a", data: "x" }, { "x-publish-key": "s3cret" }),
  ];
  assertEquals(ok.map((r) => r.status), [200, 200, 200, 200]);
});

Deno.test("a message over --max-message-size gets 413", async () => {
  await using t = await startTestServer({ maxMessageSize: 100 });
  assertEquals((await publishJson(t.origin, { channel: "a", data: "x".repeat(100) })).status, 200);
  await expectError(
    publishJson(t.origin, { channel: "a", data: "é".repeat(51) }),
    413,
    "102 bytes",
  );
});

Deno.test("a body far over the limit is refused with 413 before it is parsed", async () => {
  await using t = await startTestServer({ maxMessageSize: 1024 });
  await expectError(
    publishJson(t.origin, { channel: "a", data: "x".repeat(1024 * 1024) }),
    413,
    "request body is over",
  );
});

Deno.test("a publish with another content type gets 415 naming the accepted ones", async () => {
  await using t = await startTestServer();
  for (const type of ["text/plain", ""]) {
    const response = await fetch(`${t.origin}/publish`, {
      method: "POST",
      headers: type ? { "content-type": type } : {},
      body: new Blob(["channel=a&message=x"]),
    });
    assertEquals(response.status, 415, type);
    assert((await response.json()).error.includes("application/json"));
  }
});

Deno.test("GET /publish gets 405 with an Allow header", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/publish`);
  await response.body?.cancel();
  assertEquals(response.status, 405);
  assertEquals(response.headers.get("allow"), "POST");
});

/** Publishes once with `key` as X-Publish-Key and returns the status. */
async function publishWithKey(origin: string, key: string): Promise<number> {
  return (await publishJson(origin, { channel: "a", data: "x" }, { "x-publish-key": key })).status;
}

Deno.test("without --publish-key, --publish-rate limits the client address whatever key it sends", async () => {
  await using t = await startTestServer({ publishRate: 5 });
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) statuses.push(await publishWithKey(t.origin, `made-up-${i}`));
  assertEquals(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
  // Tokens refill at 5 a second: far fewer than 40 can pass, however slow the machine.
  assert(statuses.filter((s) => s === 429).length >= 20, statuses.join(" "));
});

Deno.test("with --publish-key, wrong keys count against the client address until they get 429", async () => {
  await using t = await startTestServer({ publishKey: "s3cret", publishRate: 2 });
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push(await publishWithKey(t.origin, `guess-${i}`));
  assertEquals(statuses.slice(0, 2), [401, 401]);
  assert(statuses.filter((s) => s === 429).length >= 10, statuses.join(" "));
  await expectError(
    publishJson(t.origin, { channel: "a", data: "x" }, { "x-publish-key": "guess" }),
    429,
    "--publish-rate",
  );
});

Deno.test("with --publish-key, the right key keeps its own bucket while guesses are refused", async () => {
  await using t = await startTestServer({ publishKey: "s3cret", publishRate: 2 });
  const guesses: number[] = [];
  for (let i = 0; i < 20; i++) guesses.push(await publishWithKey(t.origin, "guess"));
  assertEquals(guesses.at(-1), 429);
  assertEquals(await publishWithKey(t.origin, "s3cret"), 200);
});

Deno.test("U+FFFD sent as text in a form, multipart or JSON publish is delivered as it is", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscribers("a") === 1, "subscription");
  const form = new FormData();
  form.append("channel", "a");
  form.append("message", "multipart \uFFFD");
  const statuses = [
    (await publishForm(t.origin, [["channel", "a"], ["message", "form \uFFFD"]])).status,
    await fetch(`${t.origin}/publish`, { method: "POST", body: form }).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    }),
    (await publishJson(t.origin, { channel: "a", data: "json \uFFFD" })).status,
  ];
  assertEquals(statuses, [200, 200, 200]);
  assertEquals(
    (await sse.events(3)).map((e) => e.data),
    ["form \uFFFD", "multipart \uFFFD", "json \uFFFD"],
  );
});

/**
 * Publishes once from the loopback address `from` (any 127.x.y.z reaches the
 * server), so tests can act as several clients; returns the status.
 */
function publishFrom(origin: string, from: string, key: string): Promise<number> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: Number(url.port),
      path: "/publish",
      method: "POST",
      localAddress: from,
      headers: { "content-type": "application/json", "x-publish-key": key },
    }, (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    request.on("error", reject);
    request.end(JSON.stringify({ channel: "a", data: "x" }));
  });
}

Deno.test("with --publish-key, one address guessing keys is limited and another address is not", async () => {
  await using t = await startTestServer({ publishKey: "s3cret", publishRate: 2 });
  const guesses: number[] = [];
  for (let i = 0; i < 20; i++) guesses.push(await publishFrom(t.origin, "127.0.0.1", `guess-${i}`));
  assertEquals(guesses.at(-1), 429);
  assertEquals(await publishFrom(t.origin, "127.0.0.2", "typo"), 401);
  assertEquals(await publishFrom(t.origin, "127.0.0.2", "s3cret"), 200);
});

/** Reads `url` as text until it holds `until`, then closes it. */
async function readUntil(url: string, headers: HeadersInit, until: string): Promise<string> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!text.includes(until)) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
  } finally {
    controller.abort();
    await reader.cancel().catch(() => {});
  }
  return text;
}

Deno.test("a JSON publish with retry sends a retry: line with that event", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  const { status } = await publishJson(t.origin, { channel: "a", data: "x", retry: 5000 });
  assertEquals(status, 200);
  const event = await sse.nextEvent();
  assertEquals([event.retry, event.data], [5000, "x"]);
});

Deno.test("an event's retry: line is replayed with it after Last-Event-ID", async () => {
  await using t = await startTestServer();
  const first = await publishJson(t.origin, { channel: "a", data: "first" });
  const second = await publishJson(t.origin, { channel: "a", data: "second", retry: 750 });
  const text = await readUntil(
    `${t.origin}/?channels=a`,
    { "last-event-id": String(first.body.id) },
    "data: second\n\n",
  );
  assert(text.includes(`id: ${second.body.id}\nretry: 750\ndata: second\n\n`), text);
});

Deno.test("a JSON publish with a retry that is not whole milliseconds gets 400 naming it", async () => {
  await using t = await startTestServer();
  for (const retry of [-1, 1.5, "5000", 86_400_001]) {
    await expectError(publishJson(t.origin, { channel: "a", data: "x", retry }), 400, '"retry"');
  }
});

Deno.test("a JSON publish with an unknown field gets 400 naming it", async () => {
  await using t = await startTestServer();
  await expectError(
    publishJson(t.origin, { channel: "a", data: "x", evnt: "update" }),
    400,
    'unknown field "evnt"',
  );
});

Deno.test("a JSON publish that sets id gets 400 saying sse-hub assigns ids", async () => {
  await using t = await startTestServer();
  await expectError(
    publishJson(t.origin, { channel: "a", data: "x", id: "42" }),
    400,
    '"id" cannot be set: sse-hub assigns',
  );
});

Deno.test("a form publish with fields sse-hub does not know is still accepted, as cyclone-sse did", async () => {
  await using t = await startTestServer();
  const { status } = await publishForm(t.origin, [["channel", "a"], ["message", "x"], [
    "evnt",
    "y",
  ], ["id", "42"]]);
  assertEquals(status, 200);
});
