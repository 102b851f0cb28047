import { assertEquals, assertStringIncludes } from "@std/assert";
import { openSse, publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("--max-connections refuses streams past the limit with 503 and Retry-After", async () => {
  await using t = await startTestServer({ maxConnections: 2 });
  await using _a = await openSse(`${t.origin}/?channels=x`);
  await using _b = await openSse(`${t.origin}/?channels=x`);
  await waitFor(() => t.server.hub.subscriberCount === 2, "subscriptions");
  const third = await fetch(`${t.origin}/?channels=x`);
  assertEquals(third.status, 503);
  assertEquals(third.headers.get("retry-after"), "5");
  assertStringIncludes((await third.json()).error, "--max-connections");
});

Deno.test("--max-connections-per-ip refuses a further stream from the same address with 429", async () => {
  await using t = await startTestServer({ maxConnectionsPerIp: 1 });
  const first = await openSse(`${t.origin}/?channels=x`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  const second = await fetch(`${t.origin}/?channels=x`);
  assertEquals(second.status, 429);
  assertStringIncludes((await second.json()).error, "127.0.0.1");
  await first.close();
  await waitFor(() => t.server.hub.connectionsFrom("127.0.0.1") === 0, "the slot to free up");
  await using again = await openSse(`${t.origin}/?channels=x`);
  assertEquals(again.response.status, 200);
});

Deno.test("--publish-rate answers 429 with Retry-After past the rate, per publish key", async () => {
  await using t = await startTestServer({ publishRate: 2, publishKey: "a" });
  const send = (key: string) =>
    publishJson(t.origin, { channel: "x", data: "m" }, { "x-publish-key": key });
  assertEquals([(await send("a")).status, (await send("a")).status], [200, 200]);
  const limited = await send("a");
  assertEquals(limited.status, 429);
  assertStringIncludes(String(limited.body.error), "--publish-rate");
});
