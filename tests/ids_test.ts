import { assert, assertEquals, assertThrows } from "@std/assert";
import { compareIds, IdClock, parseId } from "../src/ids.ts";

Deno.test("ids from one clock strictly increase, even within one millisecond", () => {
  let now = 1000;
  const clock = new IdClock(() => now);
  const ids = [clock.next(), clock.next()];
  now = 999; // clock stepped back: ids must still grow
  ids.push(clock.next());
  now = 1001;
  ids.push(clock.next());
  assertEquals(ids, ["1000-1", "1000-2", "1000-3", "1001-0"]);
  for (let i = 1; i < ids.length; i++) assert(compareIds(ids[i - 1], ids[i]) < 0);
});

Deno.test("ids compare numerically, not as text", () => {
  assert(compareIds("9-0", "10-0") < 0);
  assert(compareIds("10-2", "10-10") < 0);
  assertEquals(compareIds("7-3", "7-3"), 0);
});

Deno.test("foreign ids such as UUIDs do not parse as event ids", () => {
  assertEquals(parseId("0b7e6f0e-8f55-4a42-9f43-5b0a6f8c2d11"), null);
  assertEquals(parseId("None"), null);
  assertEquals(parseId("12"), null);
  assertEquals(parseId("99999999999999999-0"), null);
  assertThrows(() => compareIds("x", "1-0"), RangeError);
});

Deno.test("a new clock's floor is above an id handed out in its first millisecond before it", () => {
  const clock = new IdClock(() => 1000);
  const floor = clock.floor();
  assert(
    compareIds("1000-0", `${floor.ms}-${floor.seq}`) < 0,
    "a previous process's id predates it",
  );
  assert(compareIds(clock.next(), `${floor.ms}-${floor.seq}`) >= 0, "its own ids do not");
});
