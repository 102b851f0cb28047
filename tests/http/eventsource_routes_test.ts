import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { redisMissing, startRedis } from "../_helpers/services.ts";
import { startTestServer, waitFor } from "../_helpers/server.ts";

/** An event as the eventsource library's client builds it (`Event<id,name,data>`). */
interface LibraryEvent {
  id?: string;
  name?: string;
  data?: string;
}

/** A listener that speaks the eventsource library's client protocol. */
interface LibraryClient extends AsyncDisposable {
  readonly response: Response;
  /** The next event that has a name (the library's callback fires only for those). */
  next(timeoutMs?: number): Promise<LibraryEvent>;
  /** Resolves once the server has ended the stream. */
  ended(timeoutMs?: number): Promise<void>;
}

/** Rejects after `ms` unless `promise` settles first. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Does what `eventsource-client <token>` does: `GET /poll/<token>` with its
 * headers, then reads each block's lines as `field: value` (a line without a
 * colon or an unknown field is an error, as in the library), keeping the
 * events that carry an `event:` name.
 */
async function pollToken(origin: string, token: string): Promise<LibraryClient> {
  const controller = new AbortController();
  const response = await fetch(`${origin}/poll/${token}`, {
    headers: { "content-type": "text/event-stream", accept: "text/event-stream" },
    signal: controller.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const block = async (): Promise<string | undefined> => {
    for (;;) {
      const end = buffer.search(/\r?\n\r?\n/);
      if (end >= 0) {
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        return text;
      }
      const { done, value } = await reader.read();
      if (done) return undefined;
      buffer += value;
    }
  };
  const parse = (text: string): LibraryEvent => {
    const event: LibraryEvent = {};
    for (const line of text.trim().split(/\r\n|\r|\n/)) {
      const colon = line.indexOf(":");
      if (colon < 0) throw new Error(`line without a colon: ${JSON.stringify(line)}`);
      const field = line.slice(0, colon).trim();
      const value = line.slice(colon + 1);
      if (field === "event") event.name = value.trimStart();
      else if (field === "data") {
        event.data = event.data === undefined
          ? value.trimStart()
          : `${event.data}\n${value.trimStart()}`;
      } else if (field === "id") event.id = value.trimStart();
      else if (field !== "retry" && field !== "") throw new Error("Unknown field !");
    }
    return event;
  };
  const close = async () => {
    controller.abort();
    await reader.cancel().catch(() => {});
  };
  return {
    response,
    async next(timeoutMs = 5000) {
      for (;;) {
        const text = await within(block(), timeoutMs, "event");
        if (text === undefined) throw new Error("stream ended");
        const event = parse(text);
        if (event.name !== undefined) return event;
      }
    },
    async ended(timeoutMs = 5000) {
      // A dropped connection (an error) is an end as much as a clean one.
      const drain = async () => {
        while (await block().catch(() => undefined) !== undefined) { /* skip events */ }
      };
      await within(drain(), timeoutMs, "end of stream");
    },
    [Symbol.asyncDispose]: close,
  };
}

/** `POST /<action>/<token>` with a raw body, as `eventsource-request` does. */
async function request(origin: string, action: string, token: string, body = "") {
  const response = await fetch(`${origin}/${action}/${token}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

Deno.test("a client polling its token receives each ping as an event named ping, in order", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true });
  await using client = await pollToken(t.origin, "42:42:42:42:42:42");
  assertEquals(client.response.status, 200);
  await waitFor(() => t.server.hub.subscribers("client:42:42:42:42:42:42") === 1, "the listener");

  const first = await request(t.origin, "ping", "42:42:42:42:42:42", "42");
  const second = await request(t.origin, "ping", "42:42:42:42:42:42", "line one\nline two");
  assertEquals([first.status, first.text, second.status], [200, "", 200]);
  assertEquals(first.headers.get("accept"), "text/plain");

  const events = [await client.next(), await client.next()];
  assertEquals(events.map((e) => [e.name, e.data]), [["ping", "42"], [
    "ping",
    "line one\nline two",
  ]]);
  assert(events.every((e) => e.id !== undefined && e.id !== ""), "every event has an id");
});

Deno.test("a ping writes one data: line per body line, and the stream opens with only a comment", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true });
  const controller = new AbortController();
  const response = await fetch(`${t.origin}/poll/raw`, { signal: controller.signal });
  assertEquals(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  assertEquals(response.headers.get("cache-control"), "no-cache");
  await waitFor(() => t.server.hub.subscribers("client:raw") === 1, "the listener");
  await request(t.origin, "ping", "raw", "a\nb\n");

  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("event: ping")) text += (await reader.read()).value ?? "";
  while (!text.endsWith("\n\n")) text += (await reader.read()).value ?? "";
  controller.abort();
  await reader.cancel().catch(() => {});

  assert(text.startsWith(": sse-hub\n\n"), JSON.stringify(text));
  assert(!text.includes("retry:"), JSON.stringify(text));
  assertStringIncludes(text, "event: ping\ndata: a\ndata: b\ndata: \n\n");
});

Deno.test("POST /close/<token> ends that token's stream, and the token may poll again", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true });
  const client = await pollToken(t.origin, "closing");
  await using other = await pollToken(t.origin, "staying");
  await waitFor(() => t.server.hub.subscriberCount === 2, "both listeners");

  const closed = await request(t.origin, "close", "closing");
  assertEquals([closed.status, closed.text], [200, ""]);
  await client.ended();
  await client[Symbol.asyncDispose]();
  await waitFor(() => t.server.hub.subscribers("client:closing") === 0, "the token to go");

  await request(t.origin, "ping", "staying", "still here");
  assertEquals((await other.next()).data, "still here");
  await using again = await pollToken(t.origin, "closing");
  assertEquals(again.response.status, 200);
});

Deno.test("a second listener on a connected token gets 423 with the library's error page", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true });
  await using _first = await pollToken(t.origin, "taken");
  await waitFor(() => t.server.hub.subscribers("client:taken") === 1, "the first listener");

  const second = await fetch(`${t.origin}/poll/taken`);
  assertEquals(second.status, 423);
  assertEquals(
    await second.text(),
    "<html><title>423: Locked</title><body>423: Target is already connected</body></html>\n",
  );
});

Deno.test("pinging or closing a token with no listener gets 404 Target is not connected", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true });
  for (const action of ["ping", "close"]) {
    const response = await request(t.origin, action, "nobody", "42");
    assertEquals(response.status, 404, action);
    assertEquals(
      response.text,
      "<html><title>404: Not Found</title><body>404: Target is not connected</body></html>\n",
    );
  }
});

Deno.test("a token that cannot name a channel gets 400 naming the token", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true });
  const cases: [string, string][] = [
    ["a,b", 'token "a,b" cannot be used'],
    ["x".repeat(194), "is 194 characters long; the limit is 193"],
    ["%FF", 'token "%FF" is not percent-encoded UTF-8'],
  ];
  for (const [token, message] of cases) {
    const response = await fetch(`${t.origin}/poll/${token}`);
    assertEquals(response.status, 400, token);
    assertStringIncludes((await response.json()).error, message);
  }
});

Deno.test("with a publish key set, ping and close need it in a header", async () => {
  await using t = await startTestServer({ eventsourceRoutes: true, publishKey: "s3cret" });
  await using client = await pollToken(t.origin, "guarded");
  await waitFor(() => t.server.hub.subscribers("client:guarded") === 1, "the listener");

  assertEquals((await request(t.origin, "ping", "guarded", "forged")).status, 401);
  const allowed = await fetch(`${t.origin}/ping/guarded`, {
    method: "POST",
    headers: { "x-publish-key": "s3cret" },
    body: "genuine",
  });
  await allowed.body?.cancel();
  assertEquals(allowed.status, 200);
  assertEquals((await client.next()).data, "genuine");
});

Deno.test("without --eventsource-routes the library's routes are not served", async () => {
  await using t = await startTestServer();
  const poll = await fetch(`${t.origin}/poll/42`);
  await poll.body?.cancel();
  assertEquals(poll.status, 404);
  for (const action of ["ping", "close"]) {
    assertEquals((await request(t.origin, action, "42", "x")).status, 404, action);
  }
});

Deno.test({
  name: "with Redis, a ping sent as soon as the poll's headers arrive finds the token connected",
  ignore: redisMissing !== undefined,
  async fn() {
    await using redis = await startRedis();
    await using t = await startTestServer({
      eventsourceRoutes: true,
      broker: "redis",
      redisUrl: redis.url,
    });
    // The stream's Redis SUBSCRIBE may still be in flight when its client
    // has the headers; "not connected" must not be answered meanwhile.
    // It is a race, so it is run many times.
    const refused: string[] = [];
    for (let i = 0; i < 200; i++) {
      await using client = await pollToken(t.origin, `fresh-${i}`);
      const { status } = await request(t.origin, "ping", `fresh-${i}`, "hello");
      if (status !== 200) refused.push(`fresh-${i}: ${status}`);
      else assertEquals((await client.next()).data, "hello");
    }
    assertEquals(refused, []);
  },
});
