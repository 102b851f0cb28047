// This file is ES5 on purpose: it runs in the old browsers that lack EventSource,
// so the Deno-runtime lint rules about var, window and `this` do not apply.
// deno-lint-ignore-file no-var no-window no-window-prefix no-this-alias
/**
 * jQuery plugin for sse-hub with cyclone-sse's DOM contract, so pages written
 * for cyclone-sse work unchanged.
 *
 * Multiplexed: ONE connection for every matching element.
 *
 *   <div class="sse" data-sse-channels="general" data-sse-events="general"></div>
 *   <div class="sse" data-sse-channels="weather" data-sse-events="forecast"></div>
 *   $.sse({ url: "/", selector: ".sse", type: "json" });
 *   $("#el").on("sse.general", function (e, a, b) { ... });
 *
 * It collects the channels of every element, opens `url?channels=a&channels=b`,
 * triggers `sse.open` / `sse.error` on every element, and for a message
 * `["type", data]` (type "json"), or an SSE event named `type`, triggers
 * `<eventPrefix><type>` with `data` on the elements whose data-sse-events lists
 * `type`. As with jQuery's trigger, an array `data` arrives as separate
 * handler arguments.
 *
 * Simple: one connection per element, from its data-sse-address and
 * data-sse-channels (or the address/channels options):
 *
 *   <div id="feed" data-sse-address="/" data-sse-channels="base"></div>
 *   $("#feed").sse().on("sse.message", function (e, data) { ... });
 *
 * Without native EventSource, include /static/eventsource-polyfill.js first.
 */
(function ($) {
  "use strict";

  var defaults = {
    url: "/",
    selector: ".sse",
    channelAttr: "data-sse-channels",
    eventAttr: "data-sse-events",
    eventPrefix: "sse.",
    type: "json",
    debug: false,
  };

  function log(options, message) {
    if (options.debug && window.console) window.console.log("[jquery.sse] " + message);
  }

  function split(value) {
    return String(value || "").split(",").map(function (part) {
      return part.trim();
    }).filter(Boolean);
  }

  function uuid() {
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === "x" ? r : (r & 0x3) | 0x8).toString(16);
    });
  }

  function decode(data, type) {
    if (type !== "json") return data;
    try {
      return JSON.parse(data);
    } catch (_error) {
      return data;
    }
  }

  function withQuery(url, params) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + $.param(params, true);
  }

  function eventSource(url) {
    if (typeof window.EventSource !== "function") {
      throw new Error(
        "no EventSource: include /static/eventsource-polyfill.js before jquery.sse.js",
      );
    }
    return new window.EventSource(url);
  }

  /** The multiplexed form: one connection for all elements matching `selector`. */
  $.sse = function (options) {
    var o = $.extend({}, defaults, options);
    var $elements = $(o.selector);
    var channels = [];
    var listeners = {}; // event type -> elements that declared it
    $elements.each(function () {
      var element = this;
      split($(element).attr(o.channelAttr)).forEach(function (channel) {
        if (channels.indexOf(channel) < 0) channels.push(channel);
      });
      split($(element).attr(o.eventAttr)).forEach(function (type) {
        (listeners[type] = listeners[type] || []).push(element);
      });
    });
    if (channels.length === 0) {
      log(o, "no channels found on " + o.selector + " elements; nothing to do");
      return null;
    }
    var source = eventSource(withQuery(o.url, { channels: channels, uuid: uuid(), client: "new" }));
    log(o, "connecting to " + source.url);

    function dispatch(type, data) {
      var targets = listeners[type];
      if (!targets) return;
      log(o, "event " + type);
      $(targets).trigger(o.eventPrefix + type, data);
    }

    source.onopen = function () {
      $elements.trigger(o.eventPrefix + "open");
    };
    source.onerror = function (error) {
      $elements.trigger(o.eventPrefix + "error", [error]);
    };
    source.onmessage = function (event) {
      var message = decode(event.data, o.type);
      if (Array.isArray(message) && message.length > 0) dispatch(message[0], message[1]);
    };
    Object.keys(listeners).forEach(function (type) {
      if (type === "message") return;
      source.addEventListener(type, function (event) {
        dispatch(type, decode(event.data, o.type));
      });
    });
    return {
      source: source,
      channels: channels,
      close: function () {
        source.close();
      },
    };
  };

  /** The simple form: one connection per element. */
  $.fn.sse = function (options) {
    var o = $.extend({ address: null, channels: [], type: "json", debug: false }, options);
    return this.each(function () {
      var $element = $(this);
      var address = $element.attr("data-sse-address") || o.address;
      if (!address) {
        log($.extend({}, o, { debug: true }), "no sse server address specified");
        return;
      }
      var attr = $element.attr("data-sse-channels");
      var channels = attr !== undefined ? split(attr) : o.channels;
      var source = eventSource(withQuery(address, { channels: channels, client: "new" }));
      source.onopen = function () {
        $element.trigger("sse.open");
      };
      source.onerror = function (error) {
        $element.trigger("sse.error", [error]);
      };
      source.onmessage = function (event) {
        var message = decode(event.data, o.type);
        $element.trigger("sse.message", Array.isArray(message) ? message : [message]);
      };
      $element.data("sse", source);
    });
  };
})(jQuery);
