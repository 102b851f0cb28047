/**
 * sse-hub browser client: one EventSource for many channels.
 *
 *   import { SseHub } from "/static/sse-hub.js";
 *   const hub = new SseHub("/", { channels: ["news", "user.42"], json: true });
 *   hub.on("message", (data, event) => console.log(data));   // events without a type
 *   hub.on("news", (data) => render(data));                  // events published with event: "news"
 *   hub.on("gap", () => reloadState());                      // some events are gone from history
 *   hub.on("open", () => {}); hub.on("error", () => {});
 *   hub.client;                                              // this tab's token (client:<token>)
 *
 * SSE events carry no channel field: to route by channel, publish with
 * `"event": "<channel>"` (the convention cyclone-sse's jQuery plugin used).
 * The browser reconnects by itself and sends the last event id, so nothing
 * is missed while it is in the server's history. The client asks for a
 * token (`?client=new`; option `client: false` does not), keeps it across
 * reconnects, and so gets what is published to `client:<token>`. Without native EventSource,
 * load /static/eventsource-polyfill.js first (long-polling, same API).
 */

const STATES = ["connecting", "open", "closed"];
const SPECIAL = { open: "open", error: "error", gap: "sse-hub.gap" };

export class SseHub {
  #source;
  #EventSource;
  #withCredentials;
  #handlers = new Map();
  #listening = new Set();
  #json;
  #lastEventId = "";

  /**
   * @param {string} url the server's subscribe URL, e.g. "/" or "https://sse.example.com/"
   * @param {{channels?: string[], json?: boolean, lastEventId?: string, client?: boolean | string,
   *          withCredentials?: boolean, EventSource?: typeof EventSource}} [options]
   */
  constructor(url = "/", options = {}) {
    const EventSourceClass = options.EventSource ?? globalThis.EventSource;
    if (typeof EventSourceClass !== "function") {
      throw new Error("no EventSource in this browser: load /static/eventsource-polyfill.js first");
    }
    const target = new URL(url, globalThis.location?.href);
    for (const channel of options.channels ?? []) target.searchParams.append("channels", channel);
    if (options.lastEventId) target.searchParams.set("lastEventId", options.lastEventId);
    const client = options.client ?? true;
    if (client !== false) target.searchParams.set("client", client === true ? "new" : client);
    this.#json = options.json === true;
    this.#EventSource = EventSourceClass;
    this.#withCredentials = options.withCredentials === true;
    /** This connection's client token, once the server has told it. */
    this.client = typeof client === "string" ? client : undefined;
    this.url = target.href;
    this.#open();
  }

  #open() {
    this.#source = new this.#EventSource(this.url, { withCredentials: this.#withCredentials });
    const names = [...this.#listening];
    this.#listening.clear();
    for (const name of ["message", "sse-hub.client", "error", ...names]) this.#listen(name);
  }

  /**
   * The browser reconnects to the same URL; a first URL that asked for a
   * new token is swapped for one that gives the token back (and the last
   * event id), so the tab keeps its token.
   */
  #keepToken() {
    const url = new URL(this.url);
    if (url.searchParams.get("client") !== "new" || !this.client) return;
    if (this.#source.readyState === 2) return;
    url.searchParams.set("client", this.client);
    if (this.#lastEventId) url.searchParams.set("lastEventId", this.#lastEventId);
    this.url = url.href;
    this.#source.close();
    this.#open();
  }

  /** "connecting", "open" or "closed". */
  get state() {
    return STATES[this.#source.readyState] ?? "closed";
  }

  /** The id of the last event received ("" before any). */
  get lastEventId() {
    return this.#lastEventId;
  }

  /**
   * Calls `handler(data, event)` for events of this type ("message" for
   * events published without one), or on "open", "error" and "gap".
   * @returns {() => void} a function that removes the handler
   */
  on(type, handler) {
    const name = SPECIAL[type] ?? type;
    if (!this.#handlers.has(name)) this.#handlers.set(name, new Set());
    this.#handlers.get(name).add(handler);
    this.#listen(name);
    return () => this.off(type, handler);
  }

  /** Removes a handler added with {@link on}. */
  off(type, handler) {
    this.#handlers.get(SPECIAL[type] ?? type)?.delete(handler);
  }

  /** Closes the connection for good. */
  close() {
    this.#source.close();
  }

  #listen(name) {
    if (this.#listening.has(name)) return;
    this.#listening.add(name);
    this.#source.addEventListener(name, (event) => this.#dispatch(name, event));
  }

  #dispatch(name, event) {
    if (name === "sse-hub.client") {
      this.client = JSON.parse(event.data).client;
      return;
    }
    if (name === "error") this.#keepToken();
    if (event.lastEventId) this.#lastEventId = event.lastEventId;
    const handlers = this.#handlers.get(name);
    if (!handlers || handlers.size === 0) return;
    let data = event.data;
    if (data !== undefined && (this.#json || name === "sse-hub.gap")) {
      try {
        data = JSON.parse(data);
      } catch {
        // not JSON: hand over the text
      }
    }
    for (const handler of handlers) handler(data, event);
  }
}
