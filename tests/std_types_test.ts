/**
 * The `@std/*` modules come from the npm package deno-std, which ships no
 * types; `types/std/*.d.ts` declare them, so `deno check` catches a wrong call.
 *
 * @module
 */

import { assertEquals } from "@std/assert";

const ROOT = new URL("..", import.meta.url).pathname;

/** One wrong call per `@std/*` module sse-hub maps, each on its own line. */
const WRONG_CALLS = [
  `import { assertEquals } from "@std/assert";`,
  `import { concat } from "@std/bytes/concat";`,
  `import { parseArgs } from "@std/cli/parse-args";`,
  `import { getCookies } from "@std/http/cookie";`,
  `import { ServerSentEventParseStream } from "@std/http/server-sent-event-parse-stream";`,
  `import { TextLineStream } from "@std/streams/text-line-stream";`,
  `import { parse } from "@std/toml";`,
  `assertEquals(1, "one");`,
  `concat(1);`,
  `parseArgs("--port");`,
  `getCookies("a=b");`,
  `new ServerSentEventParseStream({ ignoreComment: true });`,
  `new TextLineStream({ allowLF: true });`,
  `parse(new Uint8Array());`,
];

/** Runs `deno check` with the repository's deno.json on `source`; returns its diagnostics. */
async function check(source: string): Promise<{ code: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "sse-hub-std-types-" });
  try {
    await Deno.writeTextFile(`${dir}/probe.ts`, source);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", `${ROOT}deno.json`, `${dir}/probe.ts`],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    return { code, stderr: new TextDecoder().decode(stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("deno check rejects a wrong argument to each @std module sse-hub uses", async () => {
  const { code, stderr } = await check(WRONG_CALLS.join("\n") + "\n");
  const reported = [...stderr.matchAll(/probe\.ts:(\d+):\d+/g)].map((m) => Number(m[1]));
  const calls = WRONG_CALLS.flatMap((line, i) => line.startsWith("import") ? [] : [i + 1]);
  assertEquals([code !== 0, [...new Set(reported)].sort((a, b) => a - b)], [true, calls], stderr);
});

Deno.test("deno check accepts the @std calls as std documents them", async () => {
  const { code, stderr } = await check(`
import { assertEquals } from "@std/assert";
import { concat } from "@std/bytes/concat";
import { parseArgs } from "@std/cli/parse-args";
const bytes: Uint8Array<ArrayBuffer> = concat([new Uint8Array(1), new Uint8Array(2)]);
const flags = parseArgs(["--port", "1"], { string: ["port"], boolean: ["help"] });
const port: string | undefined = flags.port;
const help: boolean = flags.help;
assertEquals([bytes.length, port, help], [3, "1", false]);
`);
  assertEquals(code, 0, stderr);
});
