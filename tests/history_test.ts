import { assertEquals } from "@std/assert";
import { createEvent } from "../src/event.ts";
import { History } from "../src/history.ts";

const floor = { ms: 100, seq: 0 };

function filled(size: number, count: number, channel: (i: number) => string = () => "a") {
  const history = new History({ size, floor });
  for (let i = 1; i <= count; i++) {
    history.append(createEvent({ channels: [channel(i)], data: String(i) }, `${100 + i}-0`));
  }
  return history;
}

const datas = (events: readonly { data: string }[]) => events.map((e) => e.data);

Deno.test("replay returns exactly the events after the given id, oldest first", () => {
  const replay = filled(10, 5).since("102-0", ["a"]);
  assertEquals(datas(replay.events), ["3", "4", "5"]);
  assertEquals(replay.gap, undefined);
});

Deno.test("replay after the newest id is empty and complete", () => {
  assertEquals(filled(10, 5).since("105-0", ["a"]), { events: [] });
});

Deno.test("replay only returns events on the requested channels", () => {
  const history = filled(10, 6, (i) => (i % 2 ? "odd" : "even"));
  assertEquals(datas(history.since("100-0", ["even"]).events), ["2", "4", "6"]);
});

Deno.test("an event on several channels is replayed once", () => {
  const history = new History({ size: 10, floor });
  history.append(createEvent({ channels: ["a", "b"], data: "x" }, "101-0"));
  assertEquals(datas(history.since("100-0", ["a", "b"]).events), ["x"]);
});

Deno.test("a full history drops the oldest event", () => {
  const history = filled(3, 5);
  assertEquals(history.length, 3);
  assertEquals(datas(history.since("103-0", ["a"]).events), ["4", "5"]);
});

Deno.test("asking for an id older than what was evicted reports an evicted gap", () => {
  const replay = filled(3, 5).since("101-0", ["a"]);
  assertEquals(replay.gap, "evicted");
  assertEquals(datas(replay.events), ["3", "4", "5"]);
});

Deno.test("the id just before the oldest kept event still replays without a gap", () => {
  const replay = filled(3, 5).since("102-0", ["a"]);
  assertEquals(replay.gap, undefined);
  assertEquals(datas(replay.events), ["3", "4", "5"]);
});

Deno.test("an id from before the history existed reports an unknown-id gap", () => {
  const replay = filled(10, 2).since("50-0", ["a"]);
  assertEquals(replay.gap, "unknown-id");
  assertEquals(datas(replay.events), ["1", "2"]);
});

Deno.test("an id that is not an sse-hub id reports an invalid-id gap", () => {
  assertEquals(filled(10, 2).since("3f2a-uuid", ["a"]).gap, "invalid-id");
});

Deno.test("events older than the TTL are dropped and asking for them is a gap", () => {
  let now = 10_000;
  const history = new History({ size: 10, ttlMs: 1000, floor, now: () => now });
  history.append(createEvent({ channels: ["a"], data: "old" }, "101-0", 9_000));
  history.append(createEvent({ channels: ["a"], data: "new" }, "102-0", 9_900));
  now = 10_500;
  assertEquals(history.length, 1);
  const replay = history.since("100-0", ["a"]);
  assertEquals(datas(replay.events), ["new"]);
  assertEquals(replay.gap, "evicted");
  assertEquals(history.since("101-0", ["a"]).gap, undefined);
});

Deno.test("a history of size zero keeps nothing and reports every older id as a gap", () => {
  const history = filled(0, 3);
  assertEquals(history.length, 0);
  assertEquals(history.since("101-0", ["a"]), { events: [], gap: "evicted" });
  assertEquals(history.since("103-0", ["a"]), { events: [] });
});
