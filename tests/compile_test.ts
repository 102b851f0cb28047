/**
 * `deno task compile` builds dist/sse-hub, and the binary works on its own,
 * from another working directory, with its assets embedded. Compiling needs
 * Deno's runtime (`denort`): from DENORT_BIN, or downloaded from Deno's
 * release host. Where neither can be had the test is skipped, saying why.
 */

import { assertEquals, assertStringIncludes } from "@std/assert";
import { openSse, publishJson, waitFor } from "./_helpers/server.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BINARY = `${ROOT}dist/sse-hub`;

async function runtimeAvailable(): Promise<string | undefined> {
  const bin = Deno.env.get("DENORT_BIN");
  if (bin) {
    try {
      Deno.statSync(bin);
      return undefined;
    } catch {
      return `DENORT_BIN=${bin} does not exist`;
    }
  }
  try {
    const response = await fetch(`https://dl.deno.land/release/v${Deno.version.deno}/`, {
      method: "HEAD",
      signal: AbortSignal.timeout(3000),
    });
    await response.body?.cancel();
    return undefined;
  } catch (error) {
    return `deno compile needs its runtime (denort): DENORT_BIN is not set and dl.deno.land is unreachable (${
      (error as Error).message
    })`;
  }
}

const missing = await runtimeAvailable();
if (missing) console.warn(`skipping the compiled-binary test: ${missing}`);

Deno.test({
  name: "deno task compile builds one executable that serves its embedded assets from anywhere",
  ignore: missing !== undefined,
  async fn() {
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));

    const elsewhere = await Deno.makeTempDir();
    const version = await new Deno.Command(BINARY, { args: ["--version"], cwd: elsewhere })
      .output();
    assertStringIncludes(new TextDecoder().decode(version.stdout), "sse-hub ");

    const child = new Deno.Command(BINARY, {
      args: ["--port", "0"],
      cwd: elsewhere,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      let log = "";
      const decoder = new TextDecoder();
      const reader = child.stderr.getReader();
      while (!/listening on (http\S+)/.test(log)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the binary exited:\n${log}`);
        log += decoder.decode(value);
      }
      reader.releaseLock();
      child.stderr.cancel();
      const url = new URL(log.match(/listening on (http\S+)/)![1]);
      const asset = await fetch(new URL("/static/sse-hub.js", url));
      assertEquals(asset.status, 200);
      assertStringIncludes(await asset.text(), "export class SseHub");
      await using sse = await openSse(`${url.href}?channels=bin`);
      await waitFor(
        async () => (await (await fetch(new URL("/stats", url))).json()).length === 1,
        "subscription",
      );
      await publishJson(url.origin, { channel: "bin", data: "from the binary" });
      assertEquals((await sse.nextEvent()).data, "from the binary");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(elsewhere, { recursive: true });
    }
  },
});
