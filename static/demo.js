// The demo page: subscribe with the sse-hub client, publish with a form,
// and show live subscriber counts from /stats.
import { SseHub } from "/static/sse-hub.js";

const $ = (selector) => document.querySelector(selector);
let hub;

function show(kind, text, meta) {
  $("#no-events").hidden = true;
  const item = document.createElement("li");
  if (kind === "gap") item.className = "gap";
  const info = document.createElement("div");
  info.className = "meta";
  for (const part of meta) {
    const span = document.createElement("span");
    span.textContent = part;
    info.append(span);
  }
  const data = document.createElement("p");
  data.className = "data";
  data.textContent = text;
  item.append(info, data);
  $("#events").prepend(item);
}

function setState(state) {
  const pill = $("#state");
  pill.textContent = state;
  pill.className = `pill ${state}`;
}

function connect(channels) {
  hub?.close();
  hub = new SseHub("/", { channels });
  setState("connecting");
  const onEvent = (type) => (data, event) => {
    $("#last-id").textContent = hub.lastEventId || "–";
    show("event", data, [new Date().toLocaleTimeString(), `id ${event.lastEventId || "–"}`, type]);
  };
  hub.on("message", onEvent("message"));
  for (const channel of channels) hub.on(channel, onEvent(`event: ${channel}`));
  hub.on("gap", (info) => show("gap", "some events are gone from history", ["gap", info.reason]));
  hub.on("open", () => setState("open"));
  hub.on("error", () => setState(hub.state));
}

$("#subscribe-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const channels = $("#channels").value.split(",").map((c) => c.trim()).filter(Boolean);
  if (channels.length > 0) connect(channels);
});

$("#publish-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { channel: form.get("channel"), data: form.get("message") };
  if (form.get("event")) body.event = form.get("event");
  const headers = { "content-type": "application/json" };
  if (form.get("key")) headers["x-publish-key"] = form.get("key");
  const result = $("#publish-result");
  try {
    const response = await fetch("/publish", {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    result.className = response.ok ? "result" : "result error";
    result.textContent = response.ok
      ? `published ${answer.id}, delivered to ${answer.delivered} here`
      : `${response.status}: ${answer.error}`;
  } catch (error) {
    result.className = "result error";
    result.textContent = String(error);
  }
});

async function refreshStats() {
  try {
    const stats = await (await fetch("/stats")).json();
    const rows = stats.sort(([a], [b]) => a.localeCompare(b)).map(([channel, count]) => {
      const row = document.createElement("tr");
      for (const value of [channel, count]) {
        const cell = document.createElement("td");
        cell.textContent = value;
        row.append(cell);
      }
      return row;
    });
    $("#stats tbody").replaceChildren(...rows);
  } catch {
    // the server is restarting; try again on the next tick
  }
}

connect($("#channels").value.split(",").map((c) => c.trim()).filter(Boolean));
refreshStats();
setInterval(refreshStats, 2000);
