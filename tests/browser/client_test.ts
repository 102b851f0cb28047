import { assertEquals } from "@std/assert";
import { chromiumMissing, openPage, servePage } from "../_helpers/browser.ts";
import { publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

const PAGE = `<!doctype html>
<script type="module">
  import { SseHub } from "/static/sse-hub.js";
  window.got = [];
  window.hub = new SseHub("/", { channels: ["room"] });
  hub.on("message", (data) => got.push(data));
</script>`;

Deno.test({
  name: "the bundled client keeps its client token across a reconnect, and gets its messages",
  ignore: chromiumMissing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await startTestServer({ retryMs: 100 });
    await using b = await openPage();
    await servePage(b.page, `${t.origin}/page`, PAGE);
    await b.page.goto(`${t.origin}/page`);
    await b.page.waitForFunction("hub.client !== undefined");
    const token = await b.page.evaluate("hub.client") as string;
    await waitFor(() => t.server.hub.subscribers("room") === 1, "the client's connection");
    await publishJson(t.origin, { channel: "room", data: "before" });
    await b.page.waitForFunction("got.length === 1");

    // The server closes the connection; the browser reconnects by itself.
    const closed = await fetch(`${t.origin}/disconnect`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client: token }),
    });
    assertEquals((await closed.json()).disconnected, 1);
    await publishJson(t.origin, { channel: "room", data: "while away" });
    await waitFor(() => t.server.hub.subscribers("room") === 1, "the reconnection", 10_000);
    await publishJson(t.origin, { channel: `client:${token}`, data: "just for this tab" });
    await b.page.waitForFunction("got.length === 3", undefined, { timeout: 10_000 });
    assertEquals(await b.page.evaluate("got"), ["before", "while away", "just for this tab"]);
    assertEquals(await b.page.evaluate("hub.client"), token);
  },
});
