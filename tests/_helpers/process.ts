/**
 * Runs sse-hub as a real child process (`deno run main.ts …`) and finds the
 * URL it listens on from its startup log line.
 *
 * @module
 */

import { openSse, type SseStream, waitFor } from "./server.ts";

export const MAIN: string = new URL("../../main.ts", import.meta.url).pathname;

/** A running sse-hub process. */
export interface HubProcess extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** The subscribe URL from the `listening on …` line. */
  readonly url: URL;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Runs `main.ts` with `args` to completion and returns its output. */
export async function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: text(stdout), stderr: text(stderr) };
}

/** Starts `main.ts --port 0 …args` and resolves once it logs its URL. */
export async function spawnHub(
  args: string[] = [],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HubProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--port", "0", ...args],
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const decoder = new TextDecoder();
  const listening = Promise.withResolvers<URL>();
  const pump = (async () => {
    for await (const chunk of child.stderr) {
      log += decoder.decode(chunk, { stream: true });
      // Text logs print the URL bare; JSON logs quote it inside the message.
      const match = log.match(/listening on \\?"?(https?:\/\/[^\s"\\]+)/);
      if (match) listening.resolve(new URL(match[1]));
    }
  })();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const url = await Promise.race([
    listening.promise,
    child.status.then((s) => {
      throw new Error(`sse-hub exited with ${s.code} before listening:\n${log}`);
    }),
    new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`sse-hub did not start:\n${log}`)),
        options.timeoutMs ?? 15_000,
      )
    ),
  ]).finally(() => clearTimeout(timer));
  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM") =>
    stopped ??= (async () => {
      try {
        child.kill(signal);
      } catch {
        // already exited
      }
      const status = await child.status;
      await pump;
      return status;
    })();
  return {
    child,
    url,
    stderr: () => log,
    stop,
    [Symbol.asyncDispose]: async () => void await stop("SIGKILL"),
  };
}

/** Two instances started with the same flags; `await using` stops both. */
export interface HubPair extends AsyncDisposable {
  readonly a: HubProcess;
  readonly b: HubProcess;
}

/** Starts two sse-hub processes with `args` (e.g. sharing one broker). */
export async function spawnPair(args: string[]): Promise<HubPair> {
  const [a, b] = await Promise.all([spawnHub(args), spawnHub(args)]);
  return {
    a,
    b,
    async [Symbol.asyncDispose]() {
      await Promise.all([a.stop("SIGKILL"), b.stop("SIGKILL")]);
    },
  };
}

/** Subscribers of `channel` on a running instance, from its /stats. */
export async function channelSubscribers(hub: HubProcess, channel: string): Promise<number> {
  const stats: [string, number][] = await (await fetch(new URL("/stats", hub.url))).json();
  return stats.find(([name]) => name === channel)?.[1] ?? 0;
}

/** The status of an instance's /healthz. */
export async function healthStatus(hub: HubProcess): Promise<number> {
  const response = await fetch(new URL("/healthz", hub.url));
  await response.body?.cancel();
  return response.status;
}

/** Opens a stream on `channels` (comma-separated) and waits until the instance counts it. */
export async function subscribeTo(
  hub: HubProcess,
  channels: string,
  headers: HeadersInit = {},
): Promise<SseStream> {
  const sse = await openSse(`${hub.url.href}?channels=${channels}`, headers);
  await waitFor(
    async () => (await channelSubscribers(hub, channels.split(",")[0])) > 0,
    "subscription",
    15_000,
  );
  return sse;
}
