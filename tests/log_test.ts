import { assert, assertEquals } from "@std/assert";
import { spawnHub } from "./_helpers/process.ts";
import { openSse, waitFor } from "./_helpers/server.ts";

Deno.test("--log-format json writes one JSON object per line, connects and disconnects with their reason at debug", async () => {
  await using hub = await spawnHub(["--log-format", "json", "--log-level", "debug"]);
  const records = () =>
    hub.stderr().trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
  const find = (start: string) =>
    records().find((r) => String(r.message).startsWith(start) && r.properties.id !== undefined);
  const sse = await openSse(`${hub.url.href}?channels=news`);
  await waitFor(() => find("connect ") !== undefined, "the connect record");
  await sse.close();
  await waitFor(() => find("disconnect ") !== undefined, "the disconnect record");
  await hub.stop("SIGINT");

  const connect = find("connect ");
  assertEquals(connect.level, "DEBUG");
  assert(connect.properties.channels.includes("news"));
  assertEquals(find("disconnect ").properties.reason, "client");
  assertEquals(records().find((r) => r.properties.url)?.properties.url, hub.url.href);
  assert(records().every((r) => typeof r["@timestamp"] === "string" && r.logger));
});

Deno.test("--log-format json messages are plain text: values bare in the message, typed in properties", async () => {
  await using hub = await spawnHub(["--log-format", "json", "--log-level", "debug"]);
  const records = () =>
    hub.stderr().trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
  const sse = await openSse(`${hub.url.href}?channels=news,sport`);
  await waitFor(
    () => records().some((r) => String(r.message).startsWith("connect ")),
    "the connect record",
  );
  await sse.close();
  await hub.stop("SIGINT");

  const listening = records().find((r) => r.properties.url);
  assertEquals(listening.properties.url, hub.url.href);
  assert(listening.message.includes(`listening on ${hub.url.href} `), listening.message);
  for (const record of records()) {
    assert(!record.message.includes('"'), `quoted value in ${JSON.stringify(record.message)}`);
  }
});
