import { assertEquals } from "@std/assert";
import { ServerSentEventParseStream } from "@std/http/server-sent-event-parse-stream";
import { createHandler, Hub } from "../mod.ts";
import { openSse, type SseMessage, waitFor } from "./_helpers/server.ts";

/** Reads data-carrying messages from a library stream. */
function reader(stream: ReadableStream<Uint8Array>) {
  const messages = (stream.pipeThrough(new ServerSentEventParseStream()) as ReadableStream<
    SseMessage
  >).getReader();
  return {
    async next(): Promise<SseMessage> {
      for (;;) {
        const { value, done } = await messages.read();
        if (done) throw new Error("stream ended");
        if (value.data !== undefined) return value;
      }
    },
    cancel: () => messages.cancel(),
  };
}

Deno.test("a library subscriber gets published text as SSE events with ids", async () => {
  const hub = new Hub({ heartbeatMs: 0 });
  const sub = reader(hub.subscribe(["news", "sport"]));
  assertEquals(await hub.publish(["news", "sport"], "line 1\nline 2", { event: "update" }), 1);
  const event = await sub.next();
  assertEquals([event.event, event.data], ["update", "line 1\nline 2"]);
  assertEquals(typeof event.id, "string");
  hub.close();
  await sub.cancel();
});

Deno.test("a function publish is rendered per subscriber from its properties; falsy skips", async () => {
  const hub = new Hub<{ name: string }>({ heartbeatMs: 0 });
  const ann = reader(hub.subscribe("chat", { properties: { name: "ann" } }));
  const bob = reader(hub.subscribe("chat", { properties: { name: "bob" } }));
  const delivered = await hub.publish(
    "chat",
    (p) => p.name === "ann" ? null : `hello ${p.name}`,
  );
  assertEquals(delivered, 1);
  await hub.publish("chat", "to all");
  assertEquals((await bob.next()).data, "hello bob");
  assertEquals((await ann.next()).data, "to all");
  assertEquals((await bob.next()).data, "to all");
  hub.close();
  await Promise.all([ann.cancel(), bob.cancel()]);
});

Deno.test("initial data comes before anything published", async () => {
  const hub = new Hub({ heartbeatMs: 0 });
  const sub = reader(hub.subscribe("a", { initialData: ["start 1", "start 2"] }));
  await hub.publish("a", "live");
  assertEquals(
    [(await sub.next()).data, (await sub.next()).data, (await sub.next()).data],
    ["start 1", "start 2", "live"],
  );
  hub.close();
  await sub.cancel();
});

Deno.test("a library subscriber with a lastEventId gets what it missed", async () => {
  const hub = new Hub({ heartbeatMs: 0 });
  const first = reader(hub.subscribe("a"));
  await hub.publish("a", "one");
  const id = (await first.next()).id!;
  await first.cancel();
  await hub.publish("a", "two");
  const again = reader(hub.subscribe("a", { lastEventId: id }));
  assertEquals((await again.next()).data, "two");
  hub.close();
  await again.cancel();
});

Deno.test("cancelling a library stream unsubscribes it", async () => {
  const hub = new Hub({ heartbeatMs: 0 });
  const stream = hub.subscribe("a");
  assertEquals(hub.subscribers("a"), 1);
  await stream.cancel();
  assertEquals(hub.subscribers("a"), 0);
  hub.close();
});

Deno.test("createHandler mounted under /sse in a plain Deno.serve serves subscribe and publish", async () => {
  const sse = createHandler({ prefix: "/sse", heartbeatMs: 0 });
  await using server = Deno.serve({ port: 0, onListen() {} }, (request, info) => {
    const path = new URL(request.url).pathname;
    return path === "/sse" || path.startsWith("/sse/")
      ? sse(request, { remoteAddr: info.remoteAddr as Deno.NetAddr })
      : new Response("the app");
  });
  const origin = `http://127.0.0.1:${server.addr.port}`;
  assertEquals(await (await fetch(`${origin}/`)).text(), "the app");
  await using events = await openSse(`${origin}/sse/?channels=news`);
  await waitFor(
    async () => (await (await fetch(`${origin}/sse/stats`)).json()).length === 1,
    "subscription",
  );
  const published = await fetch(`${origin}/sse/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ channel: "news", data: "mounted" }),
  });
  assertEquals((await published.json()).delivered, 1);
  assertEquals((await events.nextEvent()).data, "mounted");
  await events.close();
  await sse.close();
});

Deno.test("createHandler passes every server option to the hub: --max-lifetime ends its streams", async () => {
  const sse = createHandler({ heartbeatMs: 0, maxLifetimeMs: 200 });
  const response = await sse(new Request("http://localhost/?channels=news"));
  assertEquals(response.status, 200);
  const reader = response.body!.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = (async () => {
    while (!(await reader.read()).done) { /* the preamble, then the end */ }
    return "ended";
  })();
  const outcome = await Promise.race([
    ended,
    new Promise((resolve) => timer = setTimeout(() => resolve("still open after 5 s"), 5000)),
  ]);
  clearTimeout(timer);
  await reader.cancel();
  await sse.close();
  assertEquals(outcome, "ended");
});

Deno.test("a long-poll through a prefixed createHandler stops counting a client that leaves", async () => {
  const sse = createHandler({ prefix: "/sse", heartbeatMs: 0 });
  const pollers = async () => {
    const stats: [string, number][] = await (await sse(new Request("http://h/sse/stats"))).json();
    return stats.find(([channel]) => channel === "news")?.[1] ?? 0;
  };
  const client = new AbortController();
  const poll = sse(
    new Request("http://h/sse/?channels=news&transport=poll", { signal: client.signal }),
  );
  await waitFor(async () => await pollers() === 1, "the long-poll to subscribe");
  client.abort();
  await waitFor(async () => await pollers() === 0, "the long-poll to leave");
  await (await poll).body?.cancel();
  await sse.close();
});
