import { assertEquals, assertStrictEquals } from "@std/assert";
import {
  CursorLines,
  CursorSet,
  CursorSets,
  formatCursor,
  parseCursor,
  START,
  takesFrom,
} from "../src/cursor.ts";
import { encodeEventBody } from "../src/encode.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("a cursor lists each channel's position, unknown ones at the start", () => {
  const positions = new Map([["news", "17-0"]]);
  assertEquals(
    formatCursor(["news", "user.42"], (c) => positions.get(c)),
    `17-0@news,${START}@user.42`,
  );
});

Deno.test("a cursor reads back to the positions it was made of, whatever the channel names hold", () => {
  const names = ["news", "a@b", "ünï", "x y=z", "client:abc.def"];
  const positions = new Map(names.map((name, i) => [name, `${i + 1}-${i}`]));
  const id = formatCursor(names, (c) => positions.get(c));
  assertEquals(/^[\x21-\x7e]+$/.test(id), true, `ASCII without spaces: ${id}`);
  assertEquals(parseCursor(id), positions);
});

Deno.test("a plain id, a UUID or a damaged cursor is not a cursor", () => {
  for (const bad of ["17-0", "3f2a9c1e-uuid", "17-0@", "x@news", "17-0@news,", "17-0@%E0%A4%A"]) {
    assertEquals(parseCursor(bad), null, bad);
  }
});

Deno.test("connections on the same channels, in any order, share one cursor set until the last leaves", () => {
  const sets = new CursorSets();
  const ba = sets.take(["b", "a"]);
  assertStrictEquals(sets.take(["a", "b"]), ba);
  assertEquals(ba.channels, ["a", "b"]);
  sets.release(ba);
  assertEquals(sets.size, 1);
  sets.release(ba);
  assertEquals(sets.size, 0);
});

/** What a connection on `set` is sent for the copy that `lines` build. */
function written(lines: CursorLines, set: CursorSet): string {
  return text(lines.headFor(set)) + text(lines.restFor(set) ?? new Uint8Array());
}

Deno.test("an event's copy on a channel ends with the cursor of each connection's channels", () => {
  const positions = new Map([["a", "5-0"], ["b", "7-1"]]);
  const lines = new CursorLines(encodeEventBody({ data: "hi" }), "a", (c) => positions.get(c));
  assertEquals(written(lines, new CursorSet(["a"])), "data: hi\nid: 5-0@a\n\n");
  const ab = written(lines, new CursorSet(["b", "a"]));
  assertEquals(ab, "data: hi\nid: 5-0@a,7-1@b\n\n");
  assertEquals(parseCursor(ab.slice("data: hi\nid: ".length, -2)), positions);
});

Deno.test("every connection shares the head of a copy, and one on its channel alone gets it whole", () => {
  const positions = new Map([["a", "5-0"]]);
  const lines = new CursorLines(encodeEventBody({ data: "hi" }), "a", (c) => positions.get(c));
  const alone = new CursorSet(["a"]);
  assertStrictEquals(lines.headFor(alone), lines.headFor(new CursorSet(["a"])));
  assertEquals(lines.restFor(alone), undefined);
  assertStrictEquals(
    lines.headFor(new CursorSet(["a", "client:1"])),
    lines.headFor(new CursorSet(["a", "client:2"])),
  );
});

Deno.test("a set keeps the end of its id line while its other channels stay put, and rebuilds it when one moves", () => {
  const positions = new Map([["a", "5-0"], ["client:1", "2-0"]]);
  const set = new CursorSet(["a", "client:1"]);
  const first = new CursorLines(encodeEventBody({ data: "1" }), "a", (c) => positions.get(c))
    .restFor(set)!;
  positions.set("a", "6-0");
  const second = new CursorLines(encodeEventBody({ data: "2" }), "a", (c) => positions.get(c))
    .restFor(set)!;
  assertStrictEquals(second, first);
  assertEquals(text(second), ",2-0@client%3A1\n\n");
  positions.set("client:1", "3-0");
  const third = new CursorLines(encodeEventBody({ data: "3" }), "a", (c) => positions.get(c))
    .restFor(set)!;
  assertEquals(text(third), ",3-0@client%3A1\n\n");
});

Deno.test("a connection on several of an event's channels takes it from the first of them only", () => {
  const event = ["x", "a", "b"];
  assertEquals(takesFrom(["a", "b"], event, "a"), true);
  assertEquals(takesFrom(["a", "b"], event, "b"), false);
  assertEquals(takesFrom(["b"], event, "b"), true);
  assertEquals(takesFrom(["x", "b"], event, "b"), false);
});
