import { assert, assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import denoJson from "../deno.json" with { type: "json" };
import { MAIN, runMain, spawnHub } from "./_helpers/process.ts";
import { KUBERNETES_ENV } from "./_helpers/kubernetes.ts";

/** Runs `deno run [permissions] main.ts …args` as a user would type it, with no prompt. */
async function runWith(
  permissions: string[],
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, MAIN, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

Deno.test("--help prints every option and exits 0", async () => {
  const { code, stdout } = await runMain(["--help"]);
  assertEquals(code, 0);
  for (const flag of ["--port", "--history-size", "--publish-key", "--log-format"]) {
    assertStringIncludes(stdout, flag);
  }
});

Deno.test("--version prints the version from deno.json", async () => {
  const { code, stdout } = await runMain(["--version"]);
  assertEquals([code, stdout.trim()], [0, `sse-hub ${denoJson.version}`]);
});

Deno.test("--help works with no permissions at all", async () => {
  const { code, stdout, stderr } = await runWith([], ["--help"]);
  assertEquals([code, stderr], [0, ""]);
  assertStringIncludes(stdout, "--port PORT");
});

Deno.test("--version works with no permissions at all", async () => {
  const { code, stdout, stderr } = await runWith([], ["--version"]);
  assertEquals([code, stdout.trim(), stderr], [0, `sse-hub ${denoJson.version}`, ""]);
});

Deno.test("starting without --allow-net exits 1 with one line naming the flag to add", async () => {
  const { code, stderr } = await runWith(["--allow-env", "--allow-read"], ["--port", "0"]);
  assertEquals([code, stderr], [
    1,
    "sse-hub: needs network access: run with --allow-net (or use deno task start)\n",
  ]);
});

Deno.test("starting with no permissions exits 1 with one line naming --allow-env", async () => {
  const { code, stderr } = await runWith([], ["--port", "0"]);
  assertEquals([code, stderr], [
    1,
    "sse-hub: needs environment access: run with --allow-env (or use deno task start)\n",
  ]);
});

Deno.test("an unknown flag exits 2 with a message naming it and a one-line --help hint", async () => {
  const { code, stderr } = await runMain(["--prot", "80"]);
  assertEquals(code, 2);
  assertEquals(stderr.trim().split("\n"), ["sse-hub: unknown option --prot", "see sse-hub --help"]);
});

Deno.test("a bad value exits 2 with a message naming the option and value, not the usage", async () => {
  const { code, stderr } = await runMain(["--port", "eighty"]);
  assertEquals(code, 2);
  assertStringIncludes(stderr, '--port: expected a whole number, got "eighty"');
  assertEquals(stderr.trim().split("\n").length, 2, stderr);
});

Deno.test("--help lists the choices of an option once", async () => {
  const { stdout } = await runMain(["--help"]);
  const line = (flag: string) => stdout.split("\n").find((l) => l.includes(`${flag} `)) ?? "";
  // --transport and --broker explain their choices in the help text: no list appended.
  assertEquals(line("--transport").includes("serve, node"), false, line("--transport"));
  assertEquals(line("--broker").match(/\bamqp\b/g)?.length, 1, line("--broker"));
  assertStringIncludes(
    line("--log-level"),
    ": trace, debug, info, warning, error, fatal (default info)",
  );
});

Deno.test("--help shows default sizes and durations with their units", async () => {
  const { stdout } = await runMain(["--help"]);
  assertStringIncludes(stdout, "(default 1MiB)");
  assertStringIncludes(stdout, "(default 64KiB)");
  assertStringIncludes(stdout, "(default 15s)");
  assertEquals(stdout.includes("1048576"), false);
});

Deno.test("an unknown key in the config file exits 2 naming the key and file", async () => {
  const file = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(file, "port = 1\nhistroy-size = 3\n");
    const { code, stderr } = await runMain(["--config", file]);
    assertEquals(code, 2);
    assertStringIncludes(stderr, `unknown key "histroy-size" in config file ${file}`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("with a Kubernetes Service's SSE_HUB_* variables set the server starts and warns naming them", async () => {
  await using hub = await spawnHub([], { env: KUBERNETES_ENV });
  const response = await fetch(new URL("/healthz", hub.url));
  assertEquals(response.status, 200);
  await response.body?.cancel();
  const warnings = hub.stderr().split("\n").filter((line) => line.includes("[WRN]"));
  assertEquals(warnings.length, 2, hub.stderr());
  const unknown = warnings.find((line) => line.includes("unknown environment variables")) ?? "";
  for (const name of Object.keys(KUBERNETES_ENV).filter((n) => n !== "SSE_HUB_PORT")) {
    assertStringIncludes(unknown, name);
  }
  assertStringIncludes(hub.stderr(), "ignoring SSE_HUB_PORT=tcp://10.96.0.12:8888");
});

Deno.test("with a Kubernetes Service's variables set a flag typo still exits 2", async () => {
  const { code, stderr } = await runMain(["--prot", "0"], KUBERNETES_ENV);
  assertEquals(code, 2);
  assertStringIncludes(stderr, "unknown option --prot");
});

Deno.test("startup logs one line with the URL it listens on", async () => {
  await using hub = await spawnHub(["--path", "/sse/"]);
  assertMatch(hub.url.href, /^http:\/\/127\.0\.0\.1:\d+\/sse\/$/);
  const response = await fetch(new URL("/healthz", hub.url));
  assertEquals(response.status, 200);
  await response.body?.cancel();
  assertEquals(hub.stderr().match(/listening on/g)?.length, 1);
});

Deno.test("a port already in use is reported and exits non-zero", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { code, stderr } = await runMain(["--port", String(taken.addr.port)]);
  assertEquals(code, 1);
  assertStringIncludes(stderr, "cannot start");
});

/** Opens `count` raw SSE connections and resolves when each has its first bytes. */
async function openRawStreams(url: URL, count: number): Promise<Deno.TcpConn[]> {
  const request = new TextEncoder().encode(
    `GET ${url.pathname}?channels=load HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`,
  );
  const open = async () => {
    const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
    await conn.write(request);
    const buffer = new Uint8Array(512);
    await conn.read(buffer);
    return conn;
  };
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i += 100) {
    conns.push(...await Promise.all(Array.from({ length: Math.min(100, count - i) }, open)));
  }
  return conns;
}

/** Resolves when the server has ended the connection (EOF or reset). */
async function ended(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(4096);
  try {
    while (await conn.read(buffer) !== null) { /* drain the closing chunk */ }
  } catch {
    // reset by peer also ends it
  } finally {
    conn.close();
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  const how = signal === "SIGTERM" ? "drains them over --drain-seconds 1" : "closes them at once";
  Deno.test(`${signal} with 2,000 open streams ${how} and exits 0 within seconds`, async () => {
    // SIGTERM drains (spread over --drain-seconds); SIGINT stops at once.
    await using hub = await spawnHub(signal === "SIGTERM" ? ["--drain-seconds", "1"] : []);
    const conns = await openRawStreams(hub.url, 2000);
    const stats = await (await fetch(new URL("/stats", hub.url))).json();
    assertEquals(stats, [["load", 2000]]);
    const started = performance.now();
    const status = await hub.stop(signal);
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(conns.map(ended));
    assertEquals(status.code, 0, hub.stderr());
    assert(seconds < 5, `took ${seconds.toFixed(1)} s to exit`);
  });
}
