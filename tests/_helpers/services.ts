/**
 * Real servers for tests: a Redis started on a free loopback port in a
 * temporary directory, stopped and restarted on demand. When the binary is
 * missing, `redisMissing` says why and the tests that need it are skipped.
 *
 * @module
 */

/** Frees a loopback port by binding it and letting it go. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

function which(binary: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${binary}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Why Redis tests cannot run here, or undefined when they can. */
export const redisMissing: string | undefined = which("redis-server") && which("redis-cli")
  ? undefined
  : "redis-server/redis-cli not installed (Debian package redis-server; .ci/run installs it)";

if (redisMissing) console.warn(`skipping Redis tests: ${redisMissing}`);

/** A Redis server owned by a test. */
export interface RedisServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** Runs `redis-cli` against it and returns its output. */
  cli(...args: string[]): Promise<string>;
  /** Stops it (keeping its append-only file). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
}

/** Starts a persistent (append-only) Redis on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "sse-hub-redis-" });
  let child: Deno.ChildProcess | undefined;
  const cli = async (...args: string[]) => {
    const out = await new Deno.Command("redis-cli", {
      args: ["-h", "127.0.0.1", "-p", String(port), ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  const start = async () => {
    child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        dir,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 10_000;
    while ((await cli("PING").catch(() => "")) !== "PONG") {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    if (!child) return;
    child.kill("SIGTERM");
    await child.status;
    child = undefined;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    cli,
    stop,
    start,
    async [Symbol.asyncDispose]() {
      await stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
