/**
 * `GET /static/<name>` and `GET /demo`: the embedded browser assets, with a
 * strong ETag, `Cache-Control`, and 304 for a matching `If-None-Match`.
 *
 * @module
 */

import { ifNoneMatch } from "@std/http/etag";
import type { RouteContext } from "./context.ts";
import { NotFoundError } from "./errors.ts";
import { type Asset, loadAssets } from "./assets.ts";

/** How long browsers may use an asset without asking again. */
const MAX_AGE_SECONDS = 300;

function serve(request: Request, asset: Asset): Response {
  const headers = {
    "content-type": asset.contentType,
    etag: asset.etag,
    "cache-control": `public, max-age=${MAX_AGE_SECONDS}`,
  };
  if (!ifNoneMatch(request.headers.get("if-none-match"), asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(request.method === "HEAD" ? null : asset.body, { headers });
}

/** Serves `/static/<name>`. */
export async function staticAsset({ request, url }: RouteContext): Promise<Response> {
  const name = url.pathname.slice("/static/".length);
  const asset = (await loadAssets()).get(name);
  if (!asset) {
    throw new NotFoundError(
      `no asset ${
        JSON.stringify(name)
      }; there are sse-hub.js, jquery.sse.js, eventsource-polyfill.js and vendor/jquery.min.js`,
    );
  }
  return serve(request, asset);
}

/** Serves the demo page. */
export async function demoPage({ request }: RouteContext): Promise<Response> {
  return serve(request, (await loadAssets()).get("demo.html")!);
}
