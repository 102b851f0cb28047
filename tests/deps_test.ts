/**
 * What running sse-hub downloads: the runtime's npm packages only. The
 * test-only ones (a browser driver, an EventSource client) are mapped in
 * `tests/deno.json` with their own lockfile, `tests/deno.lock`, because Deno
 * fetches every package of the lockfile it uses, needed or not.
 *
 * @module
 */

import { assert, assertEquals } from "@std/assert";
import rootConfig from "../deno.json" with { type: "json" };
import testConfig from "./deno.json" with { type: "json" };

const ROOT = new URL("..", import.meta.url).pathname;
const TEST_ONLY = ["eventsource", "playwright-core"];

/** Why the download tests cannot run (the npm registry is unreachable), or undefined. */
async function registryUnreachable(): Promise<string | undefined> {
  const registry = Deno.env.get("NPM_CONFIG_REGISTRY") ?? "https://registry.npmjs.org/";
  try {
    const response = await fetch(registry, { method: "HEAD", signal: AbortSignal.timeout(10_000) });
    await response.body?.cancel();
    return undefined;
  } catch (error) {
    return `the npm registry (${registry}) is unreachable: ${(error as Error).message}`;
  }
}

/** The npm packages (`name` or `@scope/name`) cached in a DENO_DIR, from any registry. */
async function cachedPackages(denoDir: string): Promise<string[]> {
  const names: string[] = [];
  const list = async (dir: string) => {
    const entries: string[] = [];
    try {
      for await (const entry of Deno.readDir(dir)) if (entry.isDirectory) entries.push(entry.name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return entries;
  };
  for (const registry of await list(`${denoDir}/npm`)) {
    for (const name of await list(`${denoDir}/npm/${registry}`)) {
      const scoped = name.startsWith("@") ? await list(`${denoDir}/npm/${registry}/${name}`) : [];
      names.push(...(scoped.length ? scoped.map((inner) => `${name}/${inner}`) : [name]));
    }
  }
  return names.sort();
}

/** The command line of `deno task start`, without the leading `deno`. */
function startArgs(): string[] {
  const [deno, ...args] = rootConfig.tasks.start.split(" ");
  assertEquals(deno, "deno");
  return args;
}

/** Runs `deno args…` in the repository with an empty DENO_DIR; `until` decides when to stop it. */
async function withFreshCache(
  args: string[],
  until: (stderr: string) => boolean,
): Promise<{ packages: string[]; stderr: string }> {
  const denoDir = await Deno.makeTempDir({ prefix: "sse-hub-deno-dir-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      env: { DENO_DIR: denoDir, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (until(stderr)) {
        child.kill("SIGTERM");
        break;
      }
    }
    await child.status;
    return { packages: await cachedPackages(denoDir), stderr };
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
}

/** Fails naming any test-only package among `packages`. */
function assertRuntimeOnly(packages: string[], stderr: string): void {
  assert(packages.includes("deno-std"), `nothing was fetched; stderr:\n${stderr}`);
  assertEquals(packages.filter((name) => TEST_ONLY.includes(name)), [], `fetched: ${packages}`);
}

const offline = await registryUnreachable();
if (offline) console.warn(`skipping the empty-DENO_DIR download tests: ${offline}`);

Deno.test({
  name: "main.ts --help on an empty DENO_DIR downloads no test-only npm package",
  ignore: offline !== undefined,
  async fn() {
    const { packages, stderr } = await withFreshCache(["run", "main.ts", "--help"], () => false);
    assertRuntimeOnly(packages, stderr);
  },
});

Deno.test({
  name: "deno task start's command on an empty DENO_DIR downloads no test-only npm package",
  ignore: offline !== undefined,
  async fn() {
    const { packages, stderr } = await withFreshCache(
      [...startArgs(), "--port", "0"],
      (text) => /listening on http/.test(text),
    );
    assert(/listening on http/.test(stderr), `the server did not start:\n${stderr}`);
    assertRuntimeOnly(packages, stderr);
  },
});

/** An import map target as an absolute specifier: paths resolve against their config file. */
function absolute(target: string, config: URL): string {
  return target.startsWith(".") ? new URL(target, config).href : target;
}

Deno.test("tests/deno.json maps every runtime import to what deno.json does", () => {
  const rootUrl = new URL("../deno.json", import.meta.url);
  const testsUrl = new URL("./deno.json", import.meta.url);
  const tests: Record<string, string | undefined> = testConfig.imports;
  for (const [name, target] of Object.entries(rootConfig.imports)) {
    assertEquals(
      absolute(tests[name] ?? "(nothing)", testsUrl),
      absolute(target, rootUrl),
      `tests/deno.json: "${name}" must map to what "${target}" in deno.json is`,
    );
  }
});

Deno.test("tests/deno.json formats and lints the tests as deno.json does the rest", () => {
  // deno fmt and deno lint read tests/deno.json for the files under tests/.
  assertEquals(
    { fmt: testConfig.fmt, lint: testConfig.lint },
    { fmt: rootConfig.fmt, lint: rootConfig.lint },
    "copy deno.json's fmt and lint sections into tests/deno.json",
  );
});

Deno.test("deno.json maps no test-only package", () => {
  assertEquals(Object.keys(rootConfig.imports).filter((name) => TEST_ONLY.includes(name)), []);
});
