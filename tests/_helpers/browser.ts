/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core.
 * When it is missing, `chromiumMissing` says why and browser tests skip.
 *
 * @module
 */

import { type Browser, chromium, type Page } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/** Why browser tests cannot run here, or undefined when they can. */
export const chromiumMissing: string | undefined = (() => {
  try {
    Deno.statSync(CHROMIUM);
    return undefined;
  } catch {
    return `${CHROMIUM} not installed (Debian package chromium; .ci/run installs it)`;
  }
})();

if (chromiumMissing) console.warn(`skipping browser tests: ${chromiumMissing}`);

/** A browser with one page; `await using` closes it. */
export interface BrowserPage extends AsyncDisposable {
  readonly browser: Browser;
  readonly page: Page;
}

/** Launches headless Chromium and opens a page. */
export async function openPage(
  viewport = { width: 1100, height: 760 },
): Promise<BrowserPage> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const page = await browser.newPage({ viewport });
  return { browser, page, [Symbol.asyncDispose]: () => browser.close() };
}

/** Serves `html` at `url` (same origin as sse-hub) for this page only. */
export async function servePage(page: Page, url: string, html: string): Promise<void> {
  await page.route(url, (route) => route.fulfill({ contentType: "text/html", body: html }));
}
