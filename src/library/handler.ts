/**
 * The whole sse-hub HTTP surface as one `(Request) => Response`, to mount
 * under a path of another server; built by the composition root (`app.ts`)
 * from any sse-hub option.
 *
 * @module
 */

import { createApp } from "../app.ts";
import { type Config, defaultConfig } from "../config/options.ts";
import type { ClientInfo } from "../http/handler.ts";
import { realize } from "../transport/serve.ts";

/** Options for {@linkcode createHandler}: any sse-hub option, plus where it is mounted. */
export type HandlerOptions = Partial<Config> & {
  /** Path prefix the handler is mounted under, e.g. `/sse`; stripped before routing. */
  readonly prefix?: string;
};

/** A mounted sse-hub: call it with requests; `close()` ends its streams. */
export type SseHandler = ((request: Request, info?: ClientInfo) => Promise<Response>) & {
  close(): Promise<void>;
};

/**
 * The sse-hub HTTP surface as one handler, for mounting inside another server.
 *
 * @example Mounted under /sse in a plain Deno.serve
 * ```ts ignore
 * import { createHandler } from "./handler.ts";
 * const sse = createHandler({ prefix: "/sse", publishKey: "secret" });
 * Deno.serve((request) =>
 *   new URL(request.url).pathname.startsWith("/sse/")
 *     ? sse(request)
 *     : new Response("my app")
 * );
 * // EventSource("/sse/?channels=news"); POST /sse/publish
 * ```
 */
export function createHandler(options: HandlerOptions = {}): SseHandler {
  const { prefix = "", ...overrides } = options;
  const app = createApp({ ...defaultConfig(), ...overrides });
  // A failed start (say, Redis unreachable) is answered per request, with 500.
  app.catch(() => {});
  const anonymous: ClientInfo = { remoteAddr: { hostname: "", port: 0 } };
  const handler = async (request: Request, info: ClientInfo = anonymous) => {
    const { handler: routes } = await app;
    if (prefix) {
      const url = new URL(request.url);
      if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
        return new Response(`not under ${prefix}`, { status: 404 });
      }
      url.pathname = url.pathname.slice(prefix.length) || "/";
      request = movedTo(request, url);
    }
    return realize(await routes(request, info));
  };
  return Object.assign(handler, {
    async close() {
      await (await app).close();
    },
  });
}

/**
 * `request` at another URL. Not `new Request(url, request)`: that reads
 * `request.signal`, and Deno.serve then warns the host app ("request.signal
 * aborts on successful responses (legacy behavior)") once a response is sent.
 * The copy's signal is the original's, read only if a route asks for it.
 */
function movedTo(request: Request, url: URL): Request {
  const moved = new Request(url, {
    method: request.method,
    headers: request.headers,
    body: request.body,
    redirect: request.redirect,
  });
  Object.defineProperty(moved, "signal", { get: () => request.signal });
  return moved;
}
