/**
 * docs/library.md's "From another project" steps, followed literally in a
 * throwaway project beside a link to this checkout: its `deno.json` and
 * `app.ts` are the ones in the doc, and the app serves a stream.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "@std/assert";
import { openSse } from "./_helpers/server.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const RUN = ["run", "--allow-net", "--allow-env", "--allow-read", "app.ts"];

/** The "From another project" section of docs/library.md. */
async function section(): Promise<string> {
  const doc = await Deno.readTextFile(new URL("../docs/library.md", import.meta.url));
  const start = doc.indexOf("## From another project");
  assert(start >= 0, 'docs/library.md has no "From another project" section');
  return doc.slice(start, doc.indexOf("\n## ", start + 1));
}

/** The body of the first fenced block of `language` in `text`, without its list indentation. */
function block(text: string, language: string): string {
  const match = text.match(
    new RegExp("^( *)```" + language + "[^\\n]*\\n([\\s\\S]*?)^\\1```", "m"),
  );
  assert(match, `no \`\`\`${language} block in the section`);
  const indent = match[1].length;
  return match[2].split("\n").map((line) => line.slice(indent)).join("\n");
}

/** Runs `deno args…` in `cwd` to completion; throws with its stderr when it fails. */
async function deno(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assertEquals(code, 0, `deno ${args.join(" ")}:\n${new TextDecoder().decode(stderr)}`);
}

Deno.test("an app outside the repo embeds sse-hub by the library doc's steps and serves a stream, warning-free", async () => {
  const steps = await section();
  assertStringIncludes(steps, "`deno install`");
  assertStringIncludes(steps, `\`deno ${RUN.join(" ")}\``);
  const dir = await Deno.makeTempDir({ prefix: "sse-hub-embed-" });
  try {
    // Step 1: sse-hub beside the project (a link to this checkout stands in for the clone).
    await Deno.symlink(ROOT, `${dir}/sse-hub`);
    await Deno.mkdir(`${dir}/my-app`);
    const app = `${dir}/my-app`;
    await Deno.writeTextFile(`${app}/deno.json`, block(steps, "json"));
    await Deno.writeTextFile(`${app}/app.ts`, block(steps, "ts"));
    await deno(["install"], app);

    const child = new Deno.Command(Deno.execPath(), {
      args: RUN,
      cwd: app,
      env: { PORT: "0", NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    let exited = false;
    child.status.then(() => exited = true);
    const pump = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
    })();
    try {
      const deadline = Date.now() + 30_000;
      let origin: string | undefined;
      while (!(origin = stderr.match(/Listening on (http:\/\/[^\s/]+)\//)?.[1])) {
        assert(!exited && Date.now() < deadline, `the app did not start:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await using stream = await openSse(`${origin}/sse/?channels=news`);
      await stream.next(); // the preamble: the subscription is in place
      const published = await fetch(`${origin}/sse/publish`, {
        method: "POST",
        body: new URLSearchParams({ channel: "news", message: "hi" }),
      });
      assertEquals(published.status, 200, await published.text());
      assertEquals((await stream.nextEvent()).data, "hi");
    } finally {
      try {
        child.kill("SIGTERM");
      } catch {
        // exited already; its stderr says why
      }
      await child.status;
      await pump;
    }
    // Deno.serve's own "Listening on" line is all the host app may print.
    const lines = stderr.split("\n").filter((line) => line && !line.startsWith("Listening on "));
    assertEquals(lines, [], `the host app printed:\n${stderr}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
