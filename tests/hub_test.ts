import { assert, assertEquals, assertStrictEquals } from "@std/assert";
import type { Broker, BrokerSink, PublishResult } from "../src/brokers/broker.ts";
import { MemoryBroker } from "../src/brokers/memory.ts";
import { createChannelEvent, createEvent, type HubEvent, type Message } from "../src/event.ts";
import type { Replay } from "../src/history.ts";
import { Hub } from "../src/hub.ts";
import type { CloseReason, Subscriber } from "../src/subscriber.ts";

/** A subscriber that records what it is given. */
class Recorder implements Subscriber {
  readonly writes: Uint8Array[] = [];
  closedWith?: CloseReason;
  onClose?: (reason: CloseReason) => void;
  constructor(readonly id: string, readonly channels: readonly string[]) {}
  write(bytes: Uint8Array) {
    if (!this.closedWith) this.writes.push(bytes);
  }
  ready() {
    return Promise.resolve();
  }
  close(reason: CloseReason) {
    if (this.closedWith) return;
    this.closedWith = reason;
    this.onClose?.(reason);
  }
  get text(): string[] {
    return this.writes.map((b) => new TextDecoder().decode(b));
  }
}

async function memoryHub(historySize = 100): Promise<Hub> {
  const hub = new Hub({ broker: new MemoryBroker({ historySize }), heartbeatMs: 0 });
  await hub.start();
  return hub;
}

Deno.test("a publish writes the very same bytes object to every subscriber", async () => {
  const hub = await memoryHub();
  const subs = [new Recorder("1", ["a"]), new Recorder("2", ["a"]), new Recorder("3", ["a"])];
  for (const sub of subs) await hub.subscribe(sub);
  const result = await hub.publish({ channels: ["a"], data: "x" });
  assertEquals(result.delivered, 3);
  assertEquals(subs.map((s) => s.writes.length), [1, 1, 1]);
  assertStrictEquals(subs[0].writes[0], subs[1].writes[0]);
  assertStrictEquals(subs[1].writes[0], subs[2].writes[0]);
  hub.close();
});

Deno.test("a subscriber on two target channels gets a two-channel event once", async () => {
  const hub = await memoryHub();
  const both = new Recorder("both", ["a", "b"]);
  const onlyB = new Recorder("b", ["b"]);
  await hub.subscribe(both);
  await hub.subscribe(onlyB);
  const result = await hub.publish({ channels: ["a", "b"], data: "x" });
  assertEquals(result.delivered, 2);
  assertEquals(both.writes.length, 1);
  assertEquals(onlyB.writes.length, 1);
  hub.close();
});

Deno.test("events on other channels are not written", async () => {
  const hub = await memoryHub();
  const sub = new Recorder("1", ["a"]);
  await hub.subscribe(sub);
  await hub.publish({ channels: ["b"], data: "x" });
  assertEquals(sub.writes.length, 0);
  hub.close();
});

Deno.test("a channel exists while it has subscribers and is removed with the last one", async () => {
  const hub = await memoryHub();
  const one = new Recorder("1", ["a", "b"]);
  const two = new Recorder("2", ["a"]);
  await hub.subscribe(one);
  await hub.subscribe(two);
  assertEquals(hub.stats().sort(), [["a", 2], ["b", 1]]);
  one.close("client");
  assertEquals(hub.stats(), [["a", 1]]);
  two.close("client");
  assertEquals(hub.stats(), []);
  assertEquals([hub.subscriberCount, hub.channelCount], [0, 0]);
  assertEquals(hub.counters.closed.client, 2);
  hub.close();
});

Deno.test("the broker is told when a channel gains its first and loses its last subscriber", async () => {
  const calls: string[] = [];
  const broker = new MemoryBroker({ historySize: 10 });
  broker.watch = (c: string) => void calls.push(`watch ${c}`);
  broker.unwatch = (c: string) => void calls.push(`unwatch ${c}`);
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const one = new Recorder("1", ["a"]);
  const two = new Recorder("2", ["a"]);
  await hub.subscribe(one);
  await hub.subscribe(two);
  one.close("client");
  two.close("client");
  assertEquals(calls, ["watch a", "unwatch a"]);
  hub.close();
});

Deno.test("a reconnecting subscriber gets the missed events on its channels, then live ones", async () => {
  const hub = await memoryHub();
  const first = await hub.publish({ channels: ["a"], data: "1" });
  await hub.publish({ channels: ["b"], data: "other" });
  await hub.publish({ channels: ["a"], data: "2" });
  const sub = new Recorder("1", ["a"]);
  await hub.subscribe(sub, first.id);
  await hub.publish({ channels: ["a"], data: "3" });
  assertEquals(sub.text.map((t) => t.split("data: ")[1]), ["2\n\n", "3\n\n"]);
  assertEquals(hub.counters.replayed, 1);
  hub.close();
});

/** A broker whose replay answers only when told to, as a networked one would. */
class SlowReplayBroker implements Broker {
  readonly kind = "slow";
  readonly ready = true;
  sink!: BrokerSink;
  release!: (replay: Replay) => void;
  start(sink: BrokerSink) {
    this.sink = sink;
    return Promise.resolve();
  }
  deliver(event: HubEvent) {
    return this.sink.deliver(event);
  }
  publish(_: Message): Promise<PublishResult> {
    return Promise.resolve({ delivered: 0 });
  }
  replay(): Promise<Replay> {
    return new Promise((resolve) => this.release = resolve);
  }
  watch() {}
  unwatch() {}
  broadcast() {
    return Promise.resolve();
  }
  isStopped() {
    return Promise.resolve(false);
  }
  close() {
    return Promise.resolve();
  }
}

Deno.test("live events arriving during a slow replay follow it without duplicates", async () => {
  const broker = new SlowReplayBroker();
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const sub = new Recorder("1", ["a"]);
  const subscribed = hub.subscribe(sub, "1-0");
  const event = (id: string): HubEvent => createEvent({ channels: ["a"], data: id }, id);
  broker.deliver(event("3-0")); // also in the replay below: must not be doubled
  broker.deliver(event("4-0")); // only live
  assertEquals(sub.writes.length, 0);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the replay has been asked for
  broker.release({ events: [event("2-0"), event("3-0")] });
  await subscribed;
  assertEquals(sub.text.map((t) => t.split("\n")[0]), ["id: 2-0", "id: 3-0", "id: 4-0"]);
  broker.deliver(event("5-0"));
  assertEquals(sub.writes.length, 4);
  hub.close();
});

Deno.test("live events of a channel left out of the replay are kept while it runs", async () => {
  const broker = new SlowReplayBroker();
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const sub = new Recorder("1", ["a", "client:t"]);
  const subscribed = hub.subscribe(sub, "1-0", ["a"]);
  broker.deliver(createEvent({ channels: ["client:t"], data: "for you" }, "2-0"));
  await new Promise((resolve) => setTimeout(resolve, 0)); // the replay has been asked for
  broker.release({ events: [createEvent({ channels: ["a"], data: "a3" }, "3-0")] });
  await subscribed;
  assertEquals(sub.text.map((t) => t.split("\n")[0]), ["id: 3-0", "id: 2-0"]);
  hub.close();
});

Deno.test("a replay that is not complete starts with a gap signal", async () => {
  const hub = await memoryHub(2);
  for (const data of ["1", "2", "3"]) await hub.publish({ channels: ["a"], data });
  const sub = new Recorder("1", ["a"]);
  await hub.subscribe(sub, "1-0");
  assert(sub.text[0].startsWith("event: sse-hub.gap\n"), sub.text[0]);
  assert(!sub.text[0].includes("id:"), "the gap signal must not move the client's last id");
  assertEquals(sub.writes.length, 3);
  hub.close();
});

Deno.test("one heartbeat timer writes the same comment to every subscriber", async () => {
  const hub = new Hub({ broker: new MemoryBroker({ historySize: 1 }), heartbeatMs: 20 });
  await hub.start();
  const subs = [new Recorder("1", ["a"]), new Recorder("2", ["b"])];
  for (const sub of subs) await hub.subscribe(sub);
  await new Promise((resolve) => setTimeout(resolve, 120));
  hub.close();
  for (const sub of subs) {
    assert(sub.writes.length >= 1, "no heartbeat written");
    assertEquals(sub.text[0], ": heartbeat\n\n");
  }
  assertStrictEquals(subs[0].writes[0], subs[1].writes[0]);
});

Deno.test("closing the hub closes every subscriber and refuses new ones", async () => {
  const hub = await memoryHub();
  const sub = new Recorder("1", ["a"]);
  await hub.subscribe(sub);
  hub.close();
  assertEquals(sub.closedWith, "shutdown");
  const late = new Recorder("2", ["a"]);
  await hub.subscribe(late);
  assertEquals(late.closedWith, "shutdown");
  assertEquals(hub.subscriberCount, 0);
});

Deno.test("a subscriber that closes itself while being written to is removed cleanly", async () => {
  const hub = await memoryHub();
  const fragile = new Recorder("1", ["a"]);
  fragile.write = () => fragile.close("slow");
  const steady = new Recorder("2", ["a"]);
  await hub.subscribe(fragile);
  await hub.subscribe(steady);
  await hub.publish({ channels: ["a"], data: "x" });
  await hub.publish({ channels: ["a"], data: "y" });
  assertEquals(steady.writes.length, 2);
  assertEquals(hub.counters.closed.slow, 1);
  assertEquals(hub.subscribers("a"), 1);
  hub.close();
});

/** A memory broker whose channel subscriptions complete when the test says so. */
class SlowWatchBroker extends MemoryBroker {
  readonly bound = new Map<string, () => void>();
  override watch(channel: string): Promise<void> {
    return new Promise((resolve) => this.bound.set(channel, resolve));
  }
}

Deno.test("a channel's subscribers are counted once the broker listens to it, and get events before", async () => {
  const broker = new SlowWatchBroker({ historySize: 10 });
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const sub = new Recorder("1", ["news"]);
  await hub.subscribe(sub);
  assertEquals([hub.subscribers("news"), hub.stats()], [0, []]);
  await hub.publish({ channels: ["news"], data: "early" });
  assertEquals(sub.text.length, 1, "delivery does not wait for the count");
  broker.bound.get("news")!();
  await Promise.resolve();
  assertEquals([hub.subscribers("news"), hub.stats()], [1, [["news", 1]]]);
  hub.close();
});

Deno.test("settled subscribers wait for the broker to listen instead of counting 0 meanwhile", async () => {
  const broker = new SlowWatchBroker({ historySize: 10 });
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  await hub.subscribe(new Recorder("1", ["client:tok"]));
  let settled: number | undefined;
  const counting = hub.settledSubscribers("client:tok").then((n) => settled = n);
  await Promise.resolve();
  assertEquals([hub.subscribers("client:tok"), settled], [0, undefined]);
  broker.bound.get("client:tok")!();
  await counting;
  assertEquals(settled, 1);
  assertEquals(await hub.settledSubscribers("nobody"), 0);
  hub.close();
});

/** A broker that orders per channel, like the Redis Cluster one: positions per channel. */
class PerChannelBroker extends SlowReplayBroker {
  readonly positions = new Map<string, string>();
  position(channel: string): string | undefined {
    return this.positions.get(channel);
  }
  /** Delivers the copy of `channels`' event on `channel` at `position`. */
  copy(channels: string[], channel: string, position: string, data: string): number {
    this.positions.set(channel, position);
    return this.deliver(createChannelEvent({ channels, data }, channel, position, 0));
  }
}

Deno.test("with per-channel order, connections on the same channels share one buffer with every channel's position", async () => {
  const broker = new PerChannelBroker();
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const [ab, ba, a] = [
    new Recorder("1", ["a", "b"]),
    new Recorder("2", ["b", "a"]),
    new Recorder("3", ["a"]),
  ];
  for (const sub of [ab, ba, a]) await hub.subscribe(sub);
  broker.positions.set("b", "3-0");
  assertEquals(broker.copy(["a"], "a", "5-0", "x"), 3);
  // The copy's shared head, then the set's own end of the id line: both shared.
  assertStrictEquals(ab.writes[0], ba.writes[0]);
  assertStrictEquals(ab.writes[1], ba.writes[1]);
  assertEquals(ab.text.join(""), "data: x\nid: 5-0@a,3-0@b\n\n");
  assertEquals(a.text, ["data: x\nid: 5-0@a\n\n"]);
  hub.close();
});

Deno.test("with per-channel order, a connection on two of an event's channels takes it from one copy", async () => {
  const broker = new PerChannelBroker();
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const [both, onlyB] = [new Recorder("1", ["a", "b"]), new Recorder("2", ["b"])];
  for (const sub of [both, onlyB]) await hub.subscribe(sub);
  assertEquals(broker.copy(["a", "b"], "b", "7-0", "x"), 1);
  assertEquals(broker.copy(["a", "b"], "a", "4-0", "x"), 1);
  assertEquals(onlyB.text, ["data: x\nid: 7-0@b\n\n"]);
  assertEquals(both.text.join(""), "data: x\nid: 4-0@a,7-0@b\n\n");
  hub.close();
});

Deno.test("with per-channel order, a copy held during a replay keeps the connection's whole id line", async () => {
  const broker = new PerChannelBroker();
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  broker.positions.set("client:1", "1-0");
  const sub = new Recorder("1", ["a", "client:1"]);
  const subscribed = hub.subscribe(sub, "1-0@a,1-0@client%3A1");
  broker.copy(["a"], "a", "2-0", "live");
  await new Promise((resolve) => setTimeout(resolve, 0)); // the replay has been asked for
  broker.release({ events: [] });
  await subscribed;
  assertEquals(sub.text, ["data: live\nid: 2-0@a,1-0@client%3A1\n\n"]);
  hub.close();
});

Deno.test("with per-channel order, live copies that arrive during a replay follow it unless it covered them", async () => {
  const broker = new PerChannelBroker();
  const hub = new Hub({ broker, heartbeatMs: 0 });
  await hub.start();
  const sub = new Recorder("1", ["a"]);
  const subscribed = hub.subscribe(sub, "1-0@a");
  broker.copy(["a"], "a", "2-0", "covered");
  broker.copy(["a"], "a", "3-0", "live");
  const replayed = createChannelEvent({ channels: ["a"], data: "covered" }, "a", "2-0", 0);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the replay has been asked for
  broker.release({
    events: [{ ...replayed, bytes: new TextEncoder().encode("data: covered\nid: 2-0@a\n\n") }],
    covers: (event) => event.id === "2-0",
  });
  await subscribed;
  assertEquals(sub.text, ["data: covered\nid: 2-0@a\n\n", "data: live\nid: 3-0@a\n\n"]);
  hub.close();
});
