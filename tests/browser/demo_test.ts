import { assertEquals } from "@std/assert";
import { chromiumMissing, openPage } from "../_helpers/browser.ts";
import { publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test({
  name: "the demo page shows an event published with POST /publish, and its screenshot is kept",
  ignore: chromiumMissing !== undefined,
  sanitizeOps: false, // playwright keeps its pipes to the browser process
  sanitizeResources: false,
  async fn() {
    await using t = await startTestServer();
    await using b = await openPage();
    await b.page.goto(`${t.origin}/demo`);
    await b.page.waitForSelector("#state.open");
    await waitFor(() => t.server.hub.subscribers("news") === 1, "the page's subscription");

    const form = await fetch(`${t.origin}/publish`, {
      method: "POST",
      body: new URLSearchParams({ channel: "news", message: "hello from curl" }),
    });
    assertEquals(form.status, 200);
    await b.page.waitForSelector("#events li:has-text('hello from curl')");

    await publishJson(t.origin, {
      channel: "news",
      event: "news",
      data: '{"headline":"sse-hub 0.1 is out"}',
    });
    await publishJson(t.origin, { channel: "demo", data: "multi-line\nmessages keep their lines" });
    await b.page.waitForSelector("#events li:has-text('keep their lines')");
    await b.page.waitForSelector("#stats td:has-text('news')");
    assertEquals(await b.page.locator("#events li").count(), 3);

    // `deno task screenshot` refreshes the README's picture; a plain run checks it can be made.
    const path = Deno.env.get("UPDATE_SCREENSHOT")
      ? new URL("../../docs/demo.png", import.meta.url).pathname
      : await Deno.makeTempFile({ suffix: ".png" });
    await b.page.screenshot({ path });
    const png = await Deno.readFile(path);
    assertEquals([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    assertEquals(
      png.length > 10_000,
      true,
      `a ${png.length}-byte screenshot is suspiciously small`,
    );
    if (!Deno.env.get("UPDATE_SCREENSHOT")) await Deno.remove(path);
  },
});

Deno.test({
  name: "the demo page fits a phone screen without sideways scrolling",
  ignore: chromiumMissing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await startTestServer();
    await using b = await openPage({ width: 390, height: 844 });
    await b.page.goto(`${t.origin}/demo`);
    await b.page.waitForSelector("#state.open");
    const [scrollWidth, innerWidth] = await b.page.evaluate(
      "[document.documentElement.scrollWidth, window.innerWidth]",
    ) as [number, number];
    assertEquals(
      scrollWidth <= innerWidth,
      true,
      `${scrollWidth} px wide in a ${innerWidth} px screen`,
    );
    // Subscribe and publish are stacked, not side by side.
    const subscribe = await b.page.locator("#subscribe").boundingBox();
    const publish = await b.page.locator("#publish").boundingBox();
    assertEquals(publish!.y > subscribe!.y + subscribe!.height - 1, true);
  },
});
