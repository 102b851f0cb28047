import { assertEquals } from "@std/assert";
import { chromiumMissing, openPage, servePage } from "../_helpers/browser.ts";
import { publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

const PAGE = `<!doctype html>
<script src="/static/eventsource-polyfill.js"></script>
<script type="module">
  import { SseHub } from "/static/sse-hub.js";
  window.received = [];
  window.polyfilled = window.EventSource === window.SseHubPollingEventSource;
  const hub = new SseHub("/", { channels: ["feed"] });
  hub.on("message", (data, event) => received.push([event.lastEventId, data]));
</script>`;

Deno.test({
  name:
    "without EventSource the polyfill long-polls, and after its connection is cut resumes from its last id",
  ignore: chromiumMissing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await startTestServer({ retryMs: 300, pollTimeoutMs: 5000 });
    await using b = await openPage();
    await b.page.addInitScript("delete window.EventSource");
    let cut = false;
    let polls = 0;
    await b.page.route(/transport=poll/, async (route) => {
      polls++;
      if (cut) {
        cut = false;
        await route.abort("connectionreset"); // the network drops this poll
      } else {
        await route.continue();
      }
    });
    await servePage(b.page, `${t.origin}/page`, PAGE);
    await b.page.goto(`${t.origin}/page`);
    assertEquals(await b.page.evaluate("polyfilled"), true);
    await waitFor(() => t.server.hub.subscribers("feed") === 1, "the first poll");

    const ids: string[] = [];
    const publish = async (data: string) =>
      ids.push((await publishJson(t.origin, { channel: "feed", data })).body.id as string);
    for (const data of ["m1", "m2", "m3"]) await publish(data);
    await b.page.waitForFunction("received.length === 3");

    // The server ends the waiting poll, and the next one is dropped by the network;
    // what is published meanwhile must still arrive, once, in order.
    cut = true;
    t.server.hub.disconnect(() => true);
    for (const data of ["m4", "m5", "m6"]) await publish(data);
    await b.page.waitForFunction("received.length >= 6", undefined, { timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertEquals(
      await b.page.evaluate("received"),
      ids.map((id, i) => [id, `m${i + 1}`]),
    );
    assertEquals(cut, false, "the cut poll never happened");
    assertEquals(polls > 3, true);
  },
});
