import { assertEquals } from "@std/assert";
import { ChannelMap } from "../src/channel_map.ts";

const a = { name: "a" };
const b = { name: "b" };
const c = { name: "c" };

Deno.test("a channel map reports a new channel only for its first member", () => {
  const map = new ChannelMap<object>();
  assertEquals(map.add("news", a), true);
  assertEquals(map.add("news", b), false);
  assertEquals(map.add("news", a), false);
  assertEquals([map.size, map.count("news")], [1, 2]);
});

Deno.test("a channel map lists every member, whether one or many", () => {
  const map = new ChannelMap<object>();
  map.add("solo", a);
  map.add("group", a);
  map.add("group", b);
  map.add("group", c);
  assertEquals([...map.members("solo")], [a]);
  assertEquals([...map.members("group")], [a, b, c]);
  assertEquals([...map.members("nobody")], []);
  assertEquals([...map.names()], ["solo", "group"]);
});

Deno.test("a channel map drops a channel when its last member leaves, and only then", () => {
  const map = new ChannelMap<object>();
  map.add("news", a);
  map.add("news", b);
  assertEquals(map.delete("news", a), false);
  assertEquals([...map.members("news")], [b]);
  assertEquals(map.delete("news", a), false, "a is no longer a member");
  assertEquals(map.delete("news", b), true);
  assertEquals([map.size, map.count("news")], [0, 0]);
  assertEquals(map.delete("news", b), false, "an unknown channel");
});
