import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { startTestServer } from "../_helpers/server.ts";

const ASSETS = [
  ["/static/sse-hub.js", "text/javascript; charset=utf-8", "export class SseHub"],
  ["/static/jquery.sse.js", "text/javascript; charset=utf-8", "$.sse = function"],
  ["/static/eventsource-polyfill.js", "text/javascript; charset=utf-8", "PollingEventSource"],
  ["/static/vendor/jquery.min.js", "text/javascript; charset=utf-8", "jQuery v3.7.1"],
  ["/demo", "text/html; charset=utf-8", "<title>sse-hub demo</title>"],
  ["/static/demo.css", "text/css; charset=utf-8", ":root"],
];

Deno.test("the browser assets are served with their type, an ETag and cache headers", async () => {
  await using t = await startTestServer();
  for (const [path, type, content] of ASSETS) {
    const response = await fetch(t.origin + path);
    assertEquals(response.status, 200, path);
    assertEquals(response.headers.get("content-type"), type, path);
    assert(/^"[^"]+"$/.test(response.headers.get("etag") ?? ""), path); // strong: no W/
    assertStringIncludes(response.headers.get("cache-control") ?? "", "max-age=", path);
    assertStringIncludes(await response.text(), content, path);
  }
});

Deno.test("a matching If-None-Match gets 304 without a body", async () => {
  await using t = await startTestServer();
  const first = await fetch(`${t.origin}/static/sse-hub.js`);
  await first.body?.cancel();
  const again = await fetch(`${t.origin}/static/sse-hub.js`, {
    headers: { "if-none-match": `W/"x", ${first.headers.get("etag")}` },
  });
  assertEquals(again.status, 304);
  assertEquals(await again.text(), "");
});

Deno.test("an unknown asset gets 404 naming the ones there are", async () => {
  await using t = await startTestServer();
  const response = await fetch(`${t.origin}/static/missing.js`);
  assertEquals(response.status, 404);
  assertStringIncludes((await response.json()).error, "sse-hub.js");
});
