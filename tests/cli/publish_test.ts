import { assertEquals, assertStringIncludes } from "@std/assert";
import { MAIN, runMain } from "../_helpers/process.ts";
import { openSse, startTestServer, waitFor } from "../_helpers/server.ts";

Deno.test("sse-hub publish sends DATA to every --channel and prints the server's answer", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a,b`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  const { code, stdout } = await runMain([
    "publish",
    t.origin,
    "--channel",
    "a",
    "--channel",
    "b",
    "--event",
    "note",
    "hello world",
  ]);
  assertEquals(code, 0);
  assertEquals(JSON.parse(stdout).status, "ok");
  const event = await sse.nextEvent();
  assertEquals([event.event, event.data], ["note", "hello world"]);
});

Deno.test("sse-hub publish - reads the data from standard input", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "publish", `${t.origin}/publish`, "--channel", "a", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("line one\nline two"));
  await writer.close();
  assertEquals((await child.output()).code, 0);
  assertEquals((await sse.nextEvent()).data, "line one\nline two");
});

Deno.test("sse-hub publish - drops one trailing newline of standard input, as echo adds", async () => {
  await using t = await startTestServer();
  await using sse = await openSse(`${t.origin}/?channels=a`);
  await waitFor(() => t.server.hub.subscriberCount === 1, "subscription");
  for (const input of ["x\n", "y\r\n", "z\n\n"]) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "publish", t.origin, "--channel", "a", "-"],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(input));
    await writer.close();
    assertEquals((await child.output()).code, 0);
  }
  assertEquals((await sse.events(3)).map((e) => e.data), ["x", "y", "z\n"]);
});

Deno.test("sse-hub publish exits 1 with the server's reason on a 4xx", async () => {
  await using t = await startTestServer({ publishKey: "right" });
  const { code, stderr } = await runMain([
    "publish",
    t.origin,
    "--channel",
    "a",
    "--key",
    "wrong",
    "x",
  ]);
  assertEquals(code, 1);
  assertStringIncludes(stderr, "401");
  assertStringIncludes(stderr, "the publish key is wrong");
});

Deno.test("sse-hub publish without --allow-net exits 1 with one line naming the flag", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", MAIN, "publish", "http://127.0.0.1:40000", "--key", "k", "--channel", "a", "x"],
    stdin: "null",
    stderr: "piped",
  }).output();
  assertEquals([code, new TextDecoder().decode(stderr)], [
    1,
    "sse-hub publish: needs network access: run with --allow-net (or use deno task start)\n",
  ]);
});

Deno.test("sse-hub publish without a channel or data is a usage error (exit 2)", async () => {
  for (
    const args of [["publish", "http://127.0.0.1:1", "x"], [
      "publish",
      "http://127.0.0.1:1",
      "--channel",
      "a",
    ]]
  ) {
    const { code, stderr } = await runMain(args);
    assertEquals(code, 2, args.join(" "));
    assertEquals(stderr.trim().split("\n")[1], "see sse-hub publish --help");
  }
});
