import { assertEquals } from "@std/assert";
import { usage } from "../src/config/usage.ts";

/** Lines without their indentation (`deno fmt` re-indents code blocks). */
const lines = (text: string) => text.trim().split("\n").map((line) => line.trim());

Deno.test("the README's option list is the same as --help prints", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const block = readme.match(/<!-- options:begin[^\n]*-->\s*```\n([\s\S]*?)\n```/);
  const help = usage();
  assertEquals(
    lines(block?.[1] ?? ""),
    lines(help.slice(help.indexOf("  --port"))),
    "README.md is stale: paste the output of `deno run -A main.ts --help` from --port on",
  );
});

Deno.test("the README's Deploying section says how to compile without reaching Deno's release host", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  const deploying = readme.slice(readme.indexOf("## Deploying"), readme.indexOf("## Options"));
  assertEquals(deploying.includes("DENORT_BIN=/path/to/denort"), true, deploying);
});

Deno.test("docs/migrating.md calls no shipped feature planned or not yet done", async () => {
  const text = await Deno.readTextFile(new URL("../docs/migrating.md", import.meta.url));
  assertEquals(text.match(/[^\n]*\b(not yet|planned)\b[^\n]*/gi) ?? [], []);
  for (const feature of ["--export graphite", "--private", "--cert"]) {
    assertEquals(text.includes(feature), true, `migrating.md does not mention ${feature}`);
  }
});
