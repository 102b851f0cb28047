/**
 * Test helpers: start the real server on port 0, open SSE streams over HTTP
 * and read them with std's ServerSentEventParseStream.
 *
 * @module
 */

import { ServerSentEventParseStream } from "@std/http/server-sent-event-parse-stream";
import { type Config, defaultConfig } from "../../src/config/options.ts";
import { type RunningServer, startServer } from "../../src/server.ts";

/** One parsed SSE message, as std's parser yields it. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: number;
}

/** A running server with its base URL; `await using` shuts it down. */
export interface TestServer extends AsyncDisposable {
  readonly server: RunningServer;
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  readonly origin: string;
}

/** Starts sse-hub in-process on a free port, with test-friendly defaults. */
export async function startTestServer(
  overrides: Partial<Config> = {},
): Promise<TestServer> {
  const server = await startServer({
    ...defaultConfig(),
    port: 0,
    heartbeatMs: 0,
    ...overrides,
  });
  return {
    server,
    origin: server.url.origin,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** An open SSE stream that yields parsed messages. */
export interface SseStream extends AsyncDisposable {
  readonly response: Response;
  /** The client token from the `sse-hub.client` event, once it has been read. */
  readonly client: string | undefined;
  /** The next message, comments included; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseMessage>;
  /** The next message that carries data (skips comments and retry-only blocks). */
  nextEvent(timeoutMs?: number): Promise<SseMessage>;
  /** Reads up to the `sse-hub.client` event (asked for with `?client=new`); its token. */
  clientToken(timeoutMs?: number): Promise<string>;
  /** Reads `n` data-carrying messages. */
  events(n: number, timeoutMs?: number): Promise<SseMessage[]>;
  close(): Promise<void>;
}

/** Opens `GET url` and returns its parsed SSE stream (asserting nothing about status). */
export async function openSse(
  url: string,
  headers: HeadersInit = {},
): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  if (!response.body) throw new Error(`no body from ${url}`);
  const reader = (response.body
    .pipeThrough(new ServerSentEventParseStream()) as ReadableStream<
      SseMessage
    >)
    .getReader();
  let client: string | undefined;
  const read = async (timeoutMs = 5000) => {
    let timer;
    const timeout = new Promise<never>((_, reject) =>
      timer = setTimeout(
        () => reject(new Error(`no SSE message within ${timeoutMs} ms`)),
        timeoutMs,
      )
    );
    try {
      const { done, value } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error("stream ended");
      return value;
    } finally {
      clearTimeout(timer);
    }
  };
  /** Like `read`, but sets the `sse-hub.client` event aside. */
  const next = async (timeoutMs = 5000) => {
    for (;;) {
      const message = await read(timeoutMs);
      if (message.event !== "sse-hub.client") return message;
      client = JSON.parse(message.data!).client;
    }
  };
  const nextEvent = async (timeoutMs = 5000) => {
    for (;;) {
      const message = await next(timeoutMs);
      if (message.data !== undefined) return message;
    }
  };
  const close = async () => {
    controller.abort();
    // A cancel behind a read still waiting on the network can wait for it:
    // give up after a second rather than hang the test that is closing.
    let timer;
    await Promise.race([
      reader.cancel().catch(() => {}),
      new Promise((resolve) => timer = setTimeout(resolve, 1000)),
    ]);
    clearTimeout(timer);
  };
  return {
    response,
    get client() {
      return client;
    },
    next,
    nextEvent,
    async clientToken(timeoutMs) {
      while (client === undefined) {
        const message = await read(timeoutMs);
        if (message.event === "sse-hub.client") client = JSON.parse(message.data!).client;
      }
      return client;
    },
    async events(n, timeoutMs) {
      const out: SseMessage[] = [];
      while (out.length < n) out.push(await nextEvent(timeoutMs));
      return out;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** `POST /publish` with a JSON body; returns status and parsed JSON. */
export async function publishJson(
  origin: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${origin}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** `POST /publish` with a urlencoded form body (cyclone-sse's format). */
export async function publishForm(
  origin: string,
  fields: [string, string][],
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${origin}/publish`, {
    method: "POST",
    headers,
    body: new URLSearchParams(fields),
  });
  return { status: response.status, body: await response.json() };
}

/** Resolves when `check` is true, polling every 10 ms; rejects after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
