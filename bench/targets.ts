/**
 * The servers a benchmark runs against: sse-hub on either transport, and
 * nginx's nchan module as the reference. Each is started on a free loopback
 * port, pinned to CPU 0 (the load generator pins itself to CPU 1).
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { childPids } from "./proc.ts";

/** A server under test. */
export interface Target {
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
  /** Processes whose memory and CPU count as the server's. */
  serverPids(): number[];
  /** Request path subscribing to `channels`. */
  subscribePath(channels: readonly string[]): string;
  /** The HTTP request that publishes `data` to `channel` (plain data, so a worker can send it). */
  publishRequest(channel: string, data: string): PublishRequest;
  /** Subscribers the server reports on `channel`, if it can tell. */
  subscribers(channel: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** A publish as plain data: POST `body` to `url` with `headers`. */
export interface PublishRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Sends a publish; resolves when the server accepted it. */
export async function sendPublish(request: PublishRequest): Promise<void> {
  const response = await fetch(request.url, {
    method: "POST",
    headers: request.headers,
    body: request.body,
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`publish to ${request.url} failed: ${response.status}`);
}

const ROOT = new URL("..", import.meta.url).pathname;
const HOST = "127.0.0.1";

/** A loopback port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    try {
      const conn = await Deno.connect({ hostname: HOST, port });
      conn.close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`${what} did not start listening on ${HOST}:${port}`);
}

/** The command prefix that pins a process to CPU 0 (unless `pin` is false) with a 20,000 file limit. */
function pinned(command: string[], pin = true): string[] {
  const quoted = command.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const taskset = pin && hasTaskset() ? "taskset -c 0 " : "";
  return ["sh", "-c", `ulimit -n 20000 2>/dev/null; exec ${taskset}${quoted}`];
}

let tasksetFound: boolean | undefined;
function hasTaskset(): boolean {
  if (tasksetFound === undefined) {
    try {
      tasksetFound = new Deno.Command("taskset", { args: ["-V"], stdout: "null", stderr: "null" })
        .outputSync().success;
    } catch {
      tasksetFound = false;
    }
  }
  return tasksetFound;
}

/** Pins the calling process (the load generator) to CPU 1, if it can. */
export function pinSelf(): boolean {
  if (!hasTaskset() || navigator.hardwareConcurrency < 2) return false;
  return new Deno.Command("taskset", {
    args: ["-cp", "1", String(Deno.pid)],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
}

/**
 * The V8 flags sse-hub ships with (`deno task start` and the compiled binary),
 * read from deno.json so the benchmark runs the server as it is deployed.
 */
export const SHIPPED_V8_FLAGS: string[] = denoJson.tasks.start.split(" ")
  .filter((arg) => arg.startsWith("--v8-flags="));

/** How {@linkcode startSseHub} starts sse-hub beyond its transport. */
export interface SseHubOptions {
  /** More command-line options (e.g. a broker). */
  readonly args?: readonly string[];
  /** Pin it to CPU 0 (default true); false lets the kernel place it on any core. */
  readonly pin?: boolean;
}

/** Starts sse-hub with the given transport. */
export async function startSseHub(
  transport: "serve" | "node" | "default",
  options: SseHubOptions = {},
): Promise<Target> {
  const port = freePort();
  const [cmd, ...args] = pinned([
    Deno.execPath(),
    "run",
    "-A",
    ...SHIPPED_V8_FLAGS,
    `${ROOT}main.ts`,
    "--port",
    String(port),
    // "default": no --transport, as `deno task start` and the binary run it.
    ...(transport === "default" ? [] : ["--transport", transport]),
    "--heartbeat",
    "0",
    "--log-level",
    "warning",
    ...(options.args ?? []),
  ], options.pin ?? true);
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "inherit" }).spawn();
  await waitForPort(port, child, `sse-hub (${transport})`);
  const base = `http://${HOST}:${port}`;
  return {
    name: `sse-hub ${transport}`,
    hostname: HOST,
    port,
    serverPids: () => [child.pid],
    subscribePath: (channels) => `/?channels=${channels.join(",")}`,
    publishRequest: (channel, data) => ({
      url: `${base}/publish`,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ channel, data }),
    }),
    async subscribers(channel) {
      const stats: [string, number][] = await (await fetch(`${base}/stats`)).json();
      return stats.find(([name]) => name === channel)?.[1] ?? 0;
    },
    async stop() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

const NCHAN_MODULES = [
  "/usr/lib/nginx/modules/ngx_nchan_module.so",
  "/usr/share/nginx/modules/ngx_nchan_module.so",
];

/** Where nginx's nchan module is, or why nchan cannot run here. */
export function findNchan(): { module: string } | { missing: string } {
  try {
    new Deno.Command("nginx", { args: ["-v"], stderr: "null" }).outputSync();
  } catch {
    return { missing: "nginx is not installed (Debian: nginx-light libnginx-mod-nchan)" };
  }
  for (const module of NCHAN_MODULES) {
    try {
      Deno.statSync(module);
      return { module };
    } catch {
      // try the next place
    }
  }
  return { missing: "the nchan module is not installed (Debian: libnginx-mod-nchan)" };
}

/** Starts nginx with nchan, one worker, history of 1000 messages per channel. */
export async function startNchan(module: string): Promise<Target> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "bench-nchan-" });
  const conf = `
load_module ${module};
worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 20000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen ${HOST}:${port};
    location ~ ^/sub/(.+)$ {
      nchan_subscriber eventsource;
      nchan_channel_id_split_delimiter ",";
      nchan_channel_id $1;
    }
    location ~ ^/pub/(.+)$ {
      nchan_publisher;
      nchan_channel_id $1;
      nchan_message_buffer_length 1000;
    }
    location = /nchan_status { nchan_stub_status; }
  }
}
`;
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const [cmd, ...args] = pinned(["nginx", "-p", dir, "-c", `${dir}/nginx.conf`]);
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "inherit" }).spawn();
  await waitForPort(port, child, "nginx/nchan");
  const base = `http://${HOST}:${port}`;
  return {
    name: "nchan",
    hostname: HOST,
    port,
    serverPids: () => childPids(child.pid), // the worker
    subscribePath: (channels) => `/sub/${channels.join(",")}`,
    publishRequest: (channel, data) => ({
      url: `${base}/pub/${channel}`,
      headers: { "content-type": "text/plain" },
      body: data,
    }),
    subscribers: () => Promise.resolve(undefined),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
