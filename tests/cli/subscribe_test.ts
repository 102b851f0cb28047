import { assertEquals, assertStringIncludes } from "@std/assert";
import { TextLineStream } from "@std/streams/text-line-stream";
import { formatEvent } from "../../src/cli/subscribe.ts";
import { MAIN, runMain } from "../_helpers/process.ts";
import { publishJson, startTestServer, waitFor } from "../_helpers/server.ts";

/** Spawns `sse-hub subscribe …` and reads its stdout line by line. */
function spawnSubscribe(args: string[]) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "subscribe", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = (child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
    new TextLineStream(),
  ) as ReadableStream<string>).getReader();
  return {
    child,
    /** The next output line, past sse-hub's `sse-hub.client` greeting. */
    async line(): Promise<string> {
      for (;;) {
        const { value, done } = await lines.read();
        if (done) throw new Error("sse-hub subscribe ended");
        if (!value.includes('"event":"sse-hub.client"')) return value;
      }
    },
    async stop(signal: Deno.Signal = "SIGINT") {
      child.kill(signal);
      await lines.cancel();
      const status = await child.status;
      await child.stderr.cancel();
      return status;
    },
  };
}

Deno.test("sse-hub subscribe --json prints one JSON line per event", async () => {
  await using t = await startTestServer();
  const sub = spawnSubscribe([`${t.origin}/`, "--channels", "a,b", "--json"]);
  await waitFor(() => t.server.hub.subscribers("b") === 1, "subscription", 15_000);
  const { body } = await publishJson(t.origin, { channel: "b", data: "x\ny", event: "e" });
  assertEquals(JSON.parse(await sub.line()), { id: body.id, event: "e", data: "x\ny" });
  assertEquals((await sub.stop()).code, 0);
});

Deno.test("sse-hub subscribe reconnects with the last event id and misses nothing", async () => {
  await using t = await startTestServer({ retryMs: 100 });
  const sub = spawnSubscribe([`${t.origin}/`, "--channels", "feed", "--json"]);
  await waitFor(() => t.server.hub.subscribers("feed") === 1, "subscription", 15_000);
  await publishJson(t.origin, { channel: "feed", data: "m1" });
  assertEquals(JSON.parse(await sub.line()).data, "m1");
  t.server.hub.disconnect(() => true);
  await publishJson(t.origin, { channel: "feed", data: "m2" });
  await publishJson(t.origin, { channel: "feed", data: "m3" });
  assertEquals(JSON.parse(await sub.line()).data, "m2");
  assertEquals(JSON.parse(await sub.line()).data, "m3");
  assertEquals((await sub.stop()).code, 0);
});

Deno.test("sse-hub subscribe exits 1 with the server's reason on a 4xx", async () => {
  await using t = await startTestServer();
  const { code, stderr } = await runMain(["subscribe", `${t.origin}/`]);
  assertEquals(code, 1);
  assertStringIncludes(stderr, "400");
  assertStringIncludes(stderr, "no channels given");
});

Deno.test("sse-hub subscribe with an unknown option is a usage error (exit 2)", async () => {
  const { code, stderr } = await runMain(["subscribe", "http://127.0.0.1:1/", "--chanels", "a"]);
  assertEquals(code, 2);
  assertStringIncludes(stderr, "unknown option --chanels");
});

Deno.test("events print as id, event and data lines", () => {
  assertEquals(
    formatEvent({ event: "news", data: "a\nb" }, "5-0", false),
    "id: 5-0\nevent: news\ndata: a\ndata: b\n",
  );
  assertEquals(formatEvent({ data: "x" }, "", false), "data: x\n");
});
