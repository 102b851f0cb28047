/**
 * The browser assets, imported as text so they are part of the module graph
 * and therefore inside a `deno compile`d binary: no files needed beside it.
 * jQuery comes from its npm package, never copied into the repository.
 *
 * @module
 */

import { eTag } from "@std/http/etag";
import jquery from "jquery/dist/jquery.min.js" with { type: "text" };
import demoCss from "../../static/demo.css" with { type: "text" };
import demoHtml from "../../static/demo.html" with { type: "text" };
import demoJs from "../../static/demo.js" with { type: "text" };
import polyfill from "../../static/eventsource-polyfill.js" with { type: "text" };
import jquerySse from "../../static/jquery.sse.js" with { type: "text" };
import client from "../../static/sse-hub.js" with { type: "text" };

/** One servable file. */
export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly contentType: string;
  /** Strong validator: a hash of the body. */
  readonly etag: string;
}

const JS = "text/javascript; charset=utf-8";

/** Asset names under `/static/`, with their text and type. */
const SOURCES: Record<string, [string, string]> = {
  "sse-hub.js": [client, JS],
  "jquery.sse.js": [jquerySse, JS],
  "eventsource-polyfill.js": [polyfill, JS],
  "demo.js": [demoJs, JS],
  "demo.css": [demoCss, "text/css; charset=utf-8"],
  "demo.html": [demoHtml, "text/html; charset=utf-8"],
  "vendor/jquery.min.js": [jquery, JS],
};

let assets: Promise<Map<string, Asset>> | undefined;

/** The assets by name, encoded and hashed once, on first use. */
export function loadAssets(): Promise<Map<string, Asset>> {
  return assets ??= (async () => {
    const map = new Map<string, Asset>();
    for (const [name, [text, contentType]] of Object.entries(SOURCES)) {
      const body = new TextEncoder().encode(text);
      map.set(name, { body, contentType, etag: (await eTag(body))! });
    }
    return map;
  })();
}
