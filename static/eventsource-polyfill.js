// This file is ES5 on purpose: it runs in the old browsers that lack EventSource,
// so the Deno-runtime lint rules about var, window and `this` do not apply.
// deno-lint-ignore-file no-var no-this-alias no-inner-declarations
/**
 * EventSource for browsers without it, by long-polling sse-hub.
 *
 *   <script src="/static/eventsource-polyfill.js"></script>
 *
 * Defines window.EventSource when it is missing (and always
 * window.SseHubPollingEventSource). Each poll is a plain GET with
 * `transport=poll` and the last event id in the query (no custom headers, so
 * no CORS preflight); sse-hub answers with what was missed or waits for the
 * next events, then ends the response; the polyfill parses it as an event
 * stream, dispatches the events and polls again. A dropped poll is retried
 * after the `retry:` delay from the last id it saw, so nothing is missed
 * while it is in the server's history. An HTTP 204 means "stop for good".
 */
(function (global) {
  "use strict";

  var CONNECTING = 0;
  var OPEN = 1;
  var CLOSED = 2;

  function PollingEventSource(url, init) {
    this.url = String(url);
    this.withCredentials = !!(init && init.withCredentials);
    this.readyState = CONNECTING;
    this.lastEventId = "";
    this.onopen = null;
    this.onmessage = null;
    this.onerror = null;
    this._listeners = {};
    this._retry = 2000;
    this._xhr = null;
    this._timer = null;
    var self = this;
    this._timer = setTimeout(function () {
      self._poll();
    }, 0);
  }

  PollingEventSource.CONNECTING = CONNECTING;
  PollingEventSource.OPEN = OPEN;
  PollingEventSource.CLOSED = CLOSED;
  PollingEventSource.prototype.CONNECTING = CONNECTING;
  PollingEventSource.prototype.OPEN = OPEN;
  PollingEventSource.prototype.CLOSED = CLOSED;

  PollingEventSource.prototype.addEventListener = function (type, listener) {
    (this._listeners[type] = this._listeners[type] || []).push(listener);
  };

  PollingEventSource.prototype.removeEventListener = function (type, listener) {
    var list = this._listeners[type] || [];
    var at = list.indexOf(listener);
    if (at >= 0) list.splice(at, 1);
  };

  PollingEventSource.prototype.dispatchEvent = function (event) {
    var list = (this._listeners[event.type] || []).slice();
    var handler = this["on" + event.type];
    if (typeof handler === "function") handler.call(this, event);
    for (var i = 0; i < list.length; i++) list[i].call(this, event);
    return true;
  };

  PollingEventSource.prototype.close = function () {
    this.readyState = CLOSED;
    clearTimeout(this._timer);
    if (this._xhr) this._xhr.abort();
  };

  PollingEventSource.prototype._event = function (type, init) {
    if (typeof MessageEvent === "function" && type !== "open" && type !== "error") {
      return new MessageEvent(type, init);
    }
    var event = { type: type, target: this };
    for (var key in init) event[key] = init[key];
    return event;
  };

  PollingEventSource.prototype._schedule = function (delay) {
    var self = this;
    if (this.readyState === CLOSED) return;
    this._timer = setTimeout(function () {
      self._poll();
    }, delay);
  };

  PollingEventSource.prototype._poll = function () {
    if (this.readyState === CLOSED) return;
    var self = this;
    var url = this.url + (this.url.indexOf("?") < 0 ? "?" : "&") + "transport=poll" +
      (this.lastEventId ? "&lastEventId=" + encodeURIComponent(this.lastEventId) : "");
    var xhr = new XMLHttpRequest();
    this._xhr = xhr;
    xhr.open("GET", url, true);
    xhr.withCredentials = this.withCredentials;
    xhr.onload = function () {
      self._xhr = null;
      if (self.readyState === CLOSED) return;
      if (xhr.status === 204) {
        self.close();
        return;
      }
      if (xhr.status !== 200) {
        self._fail();
        return;
      }
      if (self.readyState !== OPEN) {
        self.readyState = OPEN;
        self.dispatchEvent(self._event("open", {}));
      }
      self._parse(xhr.responseText);
      self._schedule(0);
    };
    xhr.onerror = function () {
      self._xhr = null;
      self._fail();
    };
    xhr.send();
  };

  PollingEventSource.prototype._fail = function () {
    if (this.readyState === CLOSED) return;
    this.readyState = CONNECTING;
    this.dispatchEvent(this._event("error", {}));
    this._schedule(this._retry);
  };

  /** Interprets an event stream per the WHATWG spec and dispatches its events. */
  PollingEventSource.prototype._parse = function (text) {
    var lines = text.split(/\r\n|\r|\n/);
    var data = "";
    var type = "";
    var origin = new URL(this.url, global.location && global.location.href).origin;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (line === "") {
        if (data !== "") {
          this.dispatchEvent(this._event(type || "message", {
            data: data.slice(0, -1),
            lastEventId: this.lastEventId,
            origin: origin,
          }));
        }
        data = "";
        type = "";
        continue;
      }
      if (line.charAt(0) === ":") continue;
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.charAt(0) === " ") value = value.slice(1);
      if (field === "data") data += value + "\n";
      else if (field === "event") type = value;
      else if (field === "id" && value.indexOf("\u0000") < 0) this.lastEventId = value;
      else if (field === "retry" && /^\d+$/.test(value)) this._retry = parseInt(value, 10);
    }
  };

  global.SseHubPollingEventSource = PollingEventSource;
  if (typeof global.EventSource !== "function") global.EventSource = PollingEventSource;
})(typeof window !== "undefined" ? window : globalThis);
