import { assert, assertEquals, assertMatch } from "@std/assert";
import { openSse, publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

async function postDisconnect(origin: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${origin}/disconnect`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** The first chunk of a stream at `url`, as text. */
async function firstChunk(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url);
  const text = new TextDecoder().decode((await response.body?.getReader().read())?.value);
  await response.body?.cancel().catch(() => {});
  return { status: response.status, text };
}

Deno.test("a stream carries only retry, comments and its channels' events unless it asks for a token", async () => {
  await using t = await startTestServer();
  const { text } = await firstChunk(`${t.origin}/?channels=a`);
  assertEquals(text, "retry: 2000\n: sse-hub\n\n");
});

Deno.test("?client=new is told a signed token in an sse-hub.client event, and may come back with it", async () => {
  await using t = await startTestServer();
  const { text } = await firstChunk(`${t.origin}/?channels=a&client=new`);
  const token = JSON.parse(text.match(/event: sse-hub.client\ndata: (.*)\n/)![1]).client;
  assertMatch(token, /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}$/);
  const back = await firstChunk(`${t.origin}/?channels=a&client=${token}`);
  assertEquals(back.status, 200);
  assert(back.text.includes(`data: {"client":"${token}"}`), back.text);
});

Deno.test("a made-up or forged client token gets 400 naming ?client=new", async () => {
  await using t = await startTestServer();
  const { text } = await firstChunk(`${t.origin}/?channels=a&client=new`);
  const token: string = JSON.parse(text.match(/data: (\{"client".*)\n/)![1]).client;
  const forged = `${token.slice(0, 16)}.${"A".repeat(22)}`;
  for (const made of ["tab1", forged]) {
    const response = await fetch(`${t.origin}/?channels=a&client=${made}`);
    assertEquals(response.status, 400, made);
    assert((await response.json()).error.includes("?client=new"));
  }
});

Deno.test("instances sharing --client-token-secret accept each other's tokens", async () => {
  await using a = await startTestServer({ clientTokenSecret: "shared" });
  await using b = await startTestServer({ clientTokenSecret: "shared" });
  await using c = await startTestServer({ clientTokenSecret: "other" });
  const { text } = await firstChunk(`${a.origin}/?channels=x&client=new`);
  const token = JSON.parse(text.match(/data: (\{"client".*)\n/)![1]).client;
  assertEquals((await firstChunk(`${b.origin}/?channels=x&client=${token}`)).status, 200);
  assertEquals((await firstChunk(`${c.origin}/?channels=x&client=${token}`)).status, 400);
});

Deno.test("with --client-tokens free any well-formed name is accepted", async () => {
  await using t = await startTestServer({ clientTokens: "free" });
  const { status, text } = await firstChunk(`${t.origin}/?channels=a&client=alice-1`);
  assertEquals(status, 200);
  assert(text.includes('event: sse-hub.client\ndata: {"client":"alice-1"}\n\n'), text);
});

Deno.test("publishing to client:TOKEN reaches only that connection", async () => {
  await using t = await startTestServer({ clientTokens: "free" });
  await using alice = await openSse(`${t.origin}/?channels=room&client=alice`);
  await using bob = await openSse(`${t.origin}/?channels=room&client=bob`);
  await waitFor(() => t.server.hub.subscribers("room") === 2, "subscriptions");
  const { body } = await publishJson(t.origin, { channel: "client:alice", data: "just for you" });
  assertEquals(body.delivered, 1);
  await publishJson(t.origin, { channel: "room", data: "for everyone" });
  assertEquals((await alice.events(2)).map((e) => e.data), ["just for you", "for everyone"]);
  assertEquals((await bob.nextEvent()).data, "for everyone");
  // client: channels are private plumbing, not listed in /stats.
  assertEquals(t.server.hub.stats(), [["room", 2]]);
});

Deno.test("a client token that is not 1-64 safe characters gets 400", async () => {
  await using t = await startTestServer({ clientTokens: "free" });
  for (const token of ["", "a b", "x".repeat(65), "a/b"]) {
    const response = await fetch(`${t.origin}/?channels=a&client=${encodeURIComponent(token)}`);
    await response.body?.cancel();
    assertEquals(response.status, 400, JSON.stringify(token));
  }
});

Deno.test("subscribing to someone's client: channel directly is refused", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/?channels=client:alice`);
  assertEquals(response.status, 400);
  assert((await response.json()).error.includes("reserved"));
});

Deno.test("POST /disconnect closes the streams of a client or of a channel", async () => {
  await using t = await startTestServer({ clientTokens: "free" });
  await using _alice = await openSse(`${t.origin}/?channels=a&client=alice`);
  await using _bob = await openSse(`${t.origin}/?channels=a,b&client=bob`);
  await using _carol = await openSse(`${t.origin}/?channels=c&client=carol`);
  await waitFor(() => t.server.hub.subscriberCount === 3, "subscriptions");
  assertEquals((await postDisconnect(t.origin, { client: "alice" })).body.disconnected, 1);
  assertEquals((await postDisconnect(t.origin, { channel: "b" })).body.disconnected, 1);
  assertEquals(t.server.hub.stats(), [["c", 1]]);
  assertEquals(t.server.hub.counters.closed.kicked, 2);
});

Deno.test("a client disconnected with stop gets 204 when it reconnects, telling EventSource to stop", async () => {
  await using t = await startTestServer({ clientTokens: "free" });
  await using _sse = await openSse(`${t.origin}/?channels=a&client=stale-tab`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  const result = await postDisconnect(t.origin, { client: "stale-tab", stop: true });
  assertEquals([result.body.disconnected, result.body.stopped], [1, true]);
  const again = await fetch(`${t.origin}/?channels=a&client=stale-tab`);
  assertEquals(again.status, 204);
  const other = await fetch(`${t.origin}/?channels=a&client=fresh-tab`);
  assertEquals(other.status, 200);
  await other.body?.cancel();
});

Deno.test("POST /disconnect needs the publish key when one is set, and a target", async () => {
  await using t = await startTestServer({ publishKey: "k" });
  assertEquals((await postDisconnect(t.origin, { client: "x" })).status, 401);
  assertEquals(
    (await postDisconnect(t.origin, { client: "x" }, { "x-publish-key": "k" })).status,
    200,
  );
  const empty = await postDisconnect(t.origin, {}, { "x-publish-key": "k" });
  assertEquals(empty.status, 400);
  assert(String(empty.body.error).includes('"client"'));
});
