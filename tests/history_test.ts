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
  assertEquals(replay.gaps, undefined);
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

Deno.test("a full channel drops its oldest event", () => {
  const history = filled(3, 5);
  assertEquals(history.length, 3);
  assertEquals(datas(history.since("103-0", ["a"]).events), ["4", "5"]);
});

Deno.test("asking for an id older than what was evicted reports an evicted gap", () => {
  const replay = filled(3, 5).since("101-0", ["a"]);
  assertEquals(replay.gaps, [{ reason: "evicted", channels: ["a"] }]);
  assertEquals(datas(replay.events), ["3", "4", "5"]);
});

Deno.test("the id just before the oldest kept event still replays without a gap", () => {
  const replay = filled(3, 5).since("102-0", ["a"]);
  assertEquals(replay.gaps, undefined);
  assertEquals(datas(replay.events), ["3", "4", "5"]);
});

Deno.test("an id from before the history existed reports an unknown-id gap", () => {
  const replay = filled(10, 2).since("50-0", ["a"]);
  assertEquals(replay.gaps, [{ reason: "unknown-id", channels: ["a"] }]);
  assertEquals(datas(replay.events), ["1", "2"]);
});

Deno.test("an id that is not an sse-hub id reports an invalid-id gap", () => {
  assertEquals(filled(10, 2).since("3f2a-uuid", ["a"]).gaps, [{
    reason: "invalid-id",
    channels: ["a"],
  }]);
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
  assertEquals(replay.gaps, [{ reason: "evicted", channels: ["a"] }]);
  assertEquals(history.since("101-0", ["a"]).gaps, undefined);
});

Deno.test("a history of size zero keeps nothing and reports every older id as a gap", () => {
  const history = filled(0, 3);
  assertEquals(history.length, 0);
  assertEquals(history.since("101-0", ["a"]), {
    events: [],
    gaps: [{ reason: "evicted", channels: ["a"] }],
  });
  assertEquals(history.since("103-0", ["a"]), { events: [] });
});

Deno.test("a busy channel never evicts a quiet channel's events", () => {
  const history = new History({ size: 1000, floor });
  history.append(createEvent({ channels: ["quiet"], data: "q1" }, "101-0"));
  history.append(createEvent({ channels: ["quiet"], data: "q2" }, "102-0"));
  for (let i = 0; i < 1500; i++) {
    history.append(createEvent({ channels: ["busy"], data: `b${i}` }, `${200 + i}-0`));
  }
  assertEquals(datas(history.since("101-0", ["quiet"]).events), ["q2"]);
  assertEquals(history.since("699-0", ["busy"]).gaps, undefined);
  assertEquals(history.since("200-0", ["busy"]).gaps, [{ reason: "evicted", channels: ["busy"] }]);
});

Deno.test("one cursor over several channels replays both, merged in id order, each event once", () => {
  const history = new History({ size: 10, floor });
  history.append(createEvent({ channels: ["a"], data: "a1" }, "101-0"));
  history.append(createEvent({ channels: ["b"], data: "b1" }, "102-0"));
  history.append(createEvent({ channels: ["a", "b"], data: "ab" }, "103-0"));
  history.append(createEvent({ channels: ["b"], data: "b2" }, "104-0"));
  history.append(createEvent({ channels: ["c"], data: "c1" }, "105-0"));
  assertEquals(datas(history.since("101-0", ["a", "b"]).events), ["b1", "ab", "b2"]);
  assertEquals(history.since("105-0", ["a", "b"]), { events: [] });
});

Deno.test("only the channels that lost events are named in the evicted gap", () => {
  const history = new History({ size: 2, floor });
  history.append(createEvent({ channels: ["a"], data: "a1" }, "101-0"));
  for (let i = 2; i <= 4; i++) {
    history.append(createEvent({ channels: ["b"], data: `b${i}` }, `10${i}-0`));
  }
  const replay = history.since("101-0", ["a", "b"]);
  assertEquals(replay.gaps, [{ reason: "evicted", channels: ["b"] }]);
  assertEquals(datas(replay.events), ["b3", "b4"]);
});

Deno.test("the memory bound evicts the oldest events of any channel, and says so", () => {
  const history = new History({ size: 1000, maxBytes: 4096, floor });
  for (let i = 1; i <= 20; i++) {
    history.append(
      createEvent({ channels: [i % 2 ? "odd" : "even"], data: "x".repeat(200) }, `${100 + i}-0`),
    );
  }
  assertEquals(history.bytes <= 4096, true, `holds ${history.bytes} bytes`);
  const held = history.length;
  assertEquals(held > 0 && held < 20, true, `holds ${held} events`);
  assertEquals(history.since("101-0", ["odd"]).gaps, [{ reason: "evicted", channels: ["odd"] }]);
  assertEquals(history.since("119-0", ["odd"]).gaps, undefined);
});

Deno.test("an id newer than any handed out is an unknown-id gap with no events", () => {
  assertEquals(filled(10, 3).since("999-0", ["a"]), {
    events: [],
    gaps: [{ reason: "unknown-id", channels: ["a"] }],
  });
});

Deno.test("a channel covered only from a later id answers older ids with unknown-id", () => {
  const history = filled(10, 5);
  history.coverFrom("a", { ms: 103, seq: 0 });
  assertEquals(history.since("102-0", ["a"]).gaps, [{ reason: "unknown-id", channels: ["a"] }]);
  assertEquals(history.since("103-0", ["a"]).gaps, undefined);
});

Deno.test("ids that arrive slightly out of order are kept in id order", () => {
  const history = new History({ size: 10, floor });
  history.append(createEvent({ channels: ["a"], data: "2" }, "102-0"));
  history.append(createEvent({ channels: ["a"], data: "1" }, "101-0"));
  assertEquals(datas(history.since("100-0", ["a"]).events), ["1", "2"]);
});

Deno.test("an event that arrives late does not hide an eviction that came before it", () => {
  const history = new History({ size: 2, floor });
  for (const id of ["110-0", "120-0", "130-0"]) {
    history.append(createEvent({ channels: ["a"], data: id }, id));
  }
  history.append(createEvent({ channels: ["a"], data: "late" }, "105-0"));
  assertEquals(history.since("107-0", ["a"]).gaps, [{ reason: "evicted", channels: ["a"] }]);
});

Deno.test("a forgotten channel coverage makes older ids unknown for uncovered channels, never complete", () => {
  const history = new History({ size: 10, floor });
  history.append(createEvent({ channels: ["x"], data: "newest" }, "999999-0"));
  for (let i = 0; i <= 100_000; i++) history.coverFrom(`client:${i}`, { ms: 200 + i, seq: 0 });
  // client:0's coverage (from 200) was forgotten: no channel is now complete before it.
  assertEquals(history.since("150-0", ["client:0"]).gaps, [{
    reason: "unknown-id",
    channels: ["client:0"],
  }]);
  assertEquals(history.since("150-0", ["never-covered"]).gaps?.[0].reason, "unknown-id");
});
