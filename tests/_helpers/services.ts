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

/** A function that runs `redis-cli` against one port and returns its output. */
function redisCli(port: number): (...args: string[]) => Promise<string> {
  return async (...args: string[]) => {
    const out = await new Deno.Command("redis-cli", {
      args: ["-h", "127.0.0.1", "-p", String(port), ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
}

/** Spawns `redis-server` on `port` with `args` and resolves once it answers PING. */
async function spawnRedis(port: number, args: string[]): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", ...args],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const cli = redisCli(port);
  const deadline = Date.now() + 10_000;
  while ((await cli("PING").catch(() => "")) !== "PONG") {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

/** Starts a persistent (append-only) Redis on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "sse-hub-redis-" });
  let child: Deno.ChildProcess | undefined;
  const cli = redisCli(port);
  const start = async () => {
    child = await spawnRedis(port, [
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "always",
      "--dir",
      dir,
    ]);
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

/** A Redis without persistence that a test can crash and start again, empty. */
export interface VolatileRedisServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** The PID of the running redis-server, or undefined while it is down. */
  readonly pid: number | undefined;
  /** Runs `redis-cli` against it and returns its output. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILLs it (a crash: nothing is saved, and it had nothing to save). */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
}

/**
 * Starts a Redis with no persistence at all (`--appendonly no --save ""`) on
 * a free port, in a temporary directory, so a restart loses every key; with
 * `persistent`, one whose append-only file keeps every answered write.
 */
export async function startVolatileRedis(
  options: { persistent?: boolean } = {},
): Promise<VolatileRedisServer> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "sse-hub-redis-volatile-" });
  let child: Deno.ChildProcess | undefined;
  // persistent: every write is in the append-only file before it is answered,
  // so a SIGKILL loses nothing.
  const persistence = options.persistent
    ? ["--appendonly", "yes", "--appendfsync", "always"]
    : ["--appendonly", "no"];
  const start = async () => {
    if (child) throw new Error(`redis-server on port ${port} is already running`);
    child = await spawnRedis(port, ["--save", "", ...persistence, "--dir", dir]);
  };
  const kill = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    try {
      running.kill("SIGKILL");
    } catch {
      // already exited
    }
    await running.status;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    get pid() {
      return child?.pid;
    },
    cli: redisCli(port),
    kill,
    start,
    async [Symbol.asyncDispose]() {
      await kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

const RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";

/** Why RabbitMQ tests cannot run here, or undefined when they can. */
export const rabbitMissing: string | undefined = (() => {
  try {
    Deno.statSync(RABBITMQ_SERVER);
    return which("setsid") && which("epmd")
      ? undefined
      : "setsid or epmd missing (util-linux, erlang-base)";
  } catch {
    return "rabbitmq-server not installed (Debian package rabbitmq-server; .ci/run installs it)";
  }
})();

if (rabbitMissing) console.warn(`skipping RabbitMQ tests: ${rabbitMissing}`);

/** A RabbitMQ node owned by a test. */
export interface RabbitServer extends AsyncDisposable {
  readonly url: string;
  stop(): Promise<void>;
  /** Starts it again on the same port, node name and data directory. */
  start(): Promise<void>;
}

/**
 * Starts a RabbitMQ node on free loopback ports, with its own data, logs,
 * node name and epmd port, so it touches nothing outside its temp directory.
 * The Debian wrapper in /usr/sbin switches to the rabbitmq user, so the real
 * script is run directly, in its own process group.
 */
export async function startRabbit(): Promise<RabbitServer> {
  const dir = await Deno.makeTempDir({ prefix: "sse-hub-rabbit-" });
  await Deno.mkdir(`${dir}/mnesia`);
  await Deno.mkdir(`${dir}/log`);
  await Deno.writeTextFile(`${dir}/rabbitmq.conf`, "");
  const port = freePort();
  const epmdPort = freePort();
  const env = {
    HOME: dir,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_DIST_PORT: String(freePort()),
    RABBITMQ_NODENAME: `sse-hub-test-${port}@localhost`,
    RABBITMQ_MNESIA_BASE: `${dir}/mnesia`,
    RABBITMQ_LOG_BASE: `${dir}/log`,
    RABBITMQ_CONFIG_FILE: `${dir}/rabbitmq`,
    RABBITMQ_ENABLED_PLUGINS_FILE: `${dir}/enabled_plugins`,
    ERL_EPMD_PORT: String(epmdPort),
  };
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    child = new Deno.Command("setsid", {
      args: [RABBITMQ_SERVER],
      env,
      cwd: dir,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`rabbitmq-server did not start (logs in ${dir}/log)`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const stop = async () => {
    if (!child) return;
    try {
      Deno.kill(-child.pid, "SIGTERM"); // the whole process group: script and beam
    } catch {
      // already gone
    }
    await child.status;
    child = undefined;
    // Wait until the node is really gone, so a restart can reuse its port and name.
    for (let i = 0; i < 100; i++) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        await new Promise((resolve) => setTimeout(resolve, 100));
      } catch {
        break;
      }
    }
  };
  await start();
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}/`,
    stop,
    start,
    async [Symbol.asyncDispose]() {
      await stop();
      await new Deno.Command("epmd", {
        args: ["-port", String(epmdPort), "-kill"],
        stdout: "null",
        stderr: "null",
      })
        .output().catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
