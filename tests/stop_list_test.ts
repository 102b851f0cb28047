import { assertEquals } from "@std/assert";
import { StopList } from "../src/stop_list.ts";

Deno.test("a stopped client is refused until its time is up", () => {
  let now = 1000;
  const list = new StopList(500, () => now);
  list.add("tab");
  assertEquals([list.has("tab"), list.has("other")], [true, false]);
  now = 1499;
  assertEquals(list.has("tab"), true);
  now = 1500;
  assertEquals(list.has("tab"), false);
});
