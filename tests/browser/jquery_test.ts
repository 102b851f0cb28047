import { assertEquals } from "@std/assert";
import { chromiumMissing, openPage, servePage } from "../_helpers/browser.ts";
import { publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

const PAGE = `<!doctype html>
<div class="sse" id="general" data-sse-channels="general_channel" data-sse-events="general_channel"></div>
<div class="sse" id="weather" data-sse-channels="weather_channel" data-sse-events="forecast"></div>
<script src="/static/vendor/jquery.min.js"></script>
<script src="/static/jquery.sse.js"></script>
<script>
  window.got = { general: [], weather: [], opened: 0 };
  $("#general").on("sse.general_channel", function (e, a, b) { got.general.push([a, b]); });
  $("#weather").on("sse.forecast", function (e, data) { got.weather.push(data); });
  $(".sse").on("sse.open", function () { got.opened++; });
  $.sse({ url: "/" });
</script>`;

Deno.test({
  name: "the jQuery plugin gives each .sse element only its events, over one connection",
  ignore: chromiumMissing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using t = await startTestServer();
    await using b = await openPage();
    await servePage(b.page, `${t.origin}/page`, PAGE);
    await b.page.goto(`${t.origin}/page`);
    await waitFor(() => t.server.hub.subscriberCount === 1, "the plugin's connection");
    await b.page.waitForFunction("got.opened === 2");
    // One connection carries both elements' channels.
    assertEquals(t.server.hub.subscriberCount, 1);
    assertEquals(t.server.hub.stats().sort(), [["general_channel", 1], ["weather_channel", 1]]);

    // cyclone-sse's convention: a JSON array [type, data]; an array data spreads into arguments.
    await publishJson(t.origin, {
      channel: "general_channel",
      data: '["general_channel", [1, 2]]',
    });
    await publishJson(t.origin, {
      channel: "weather_channel",
      data: '["forecast", {"sky": "clear"}]',
    });
    // An SSE event type works too, and a type no element declared reaches none.
    await publishJson(t.origin, {
      channel: "weather_channel",
      event: "forecast",
      data: '{"sky": "rain"}',
    });
    await publishJson(t.origin, { channel: "general_channel", data: '["nobody", 1]' });
    await b.page.waitForFunction("got.weather.length === 2");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assertEquals(await b.page.evaluate("got.general"), [[1, 2]]);
    assertEquals(await b.page.evaluate("got.weather"), [{ sky: "clear" }, { sky: "rain" }]);
  },
});
