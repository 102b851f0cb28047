import { assertEquals } from "@std/assert";
import { openSse, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("/stats lists non-empty channels as [channel, subscribers] pairs", async () => {
  await using t = await startTestServer();
  assertEquals(await (await fetch(`${t.origin}/stats`)).json(), []);
  await using _one = await openSse(`${t.origin}/?channels=general,cats`);
  await using _two = await openSse(`${t.origin}/?channels=general`);
  await waitFor(() => t.server.hub.subscriberCount === 2, "subscriptions");
  const response = await fetch(`${t.origin}/stats`);
  assertEquals(response.headers.get("content-type"), "application/json; charset=utf-8");
  const stats: [string, number][] = await response.json();
  assertEquals(stats.sort(), [["cats", 1], ["general", 2]]);
});

Deno.test("/healthz answers 200 with the broker and counts", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/healthz`);
  assertEquals(response.status, 200);
  assertEquals(await response.json(), {
    status: "ok",
    broker: "memory",
    subscribers: 0,
    channels: 0,
  });
});

Deno.test("an unknown path gets 404 with a hint", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/nope`);
  assertEquals(response.status, 404);
  assertEquals((await response.json()).status, "error");
});

Deno.test("a CORS preflight is answered with the allowed methods and headers", async () => {
  await using t = await startTestServer({ corsOrigin: ["https://app.example"] });
  const response = await fetch(`${t.origin}/publish`, {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "POST" },
  });
  assertEquals(response.status, 204);
  assertEquals(response.headers.get("access-control-allow-origin"), "https://app.example");
  assertEquals(response.headers.get("access-control-allow-credentials"), "true");
  assertEquals(response.headers.get("access-control-allow-methods"), "POST, OPTIONS");
});

Deno.test("with an origin list, other origins get no CORS grant", async () => {
  await using t = await startTestServer({ corsOrigin: ["https://app.example"] });
  const response = await fetch(`${t.origin}/stats`, {
    headers: { origin: "https://evil.example" },
  });
  await response.body?.cancel();
  assertEquals(response.headers.get("access-control-allow-origin"), null);
  assertEquals(response.headers.get("vary"), "Origin");
});
