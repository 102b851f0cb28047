import { assertEquals, assertStrictEquals } from "@std/assert";
import {
  CursorLines,
  cursorSet,
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

Deno.test("connections on the same channels, in any order, share one cursor set", () => {
  assertEquals(cursorSet(["b", "a"]).key, cursorSet(["a", "b"]).key);
  assertEquals(cursorSet(["b", "a"]).channels, ["a", "b"]);
});

Deno.test("an event is built once per set of channels and ends with that set's cursor", () => {
  const positions = new Map([["a", "5-0"], ["b", "7-1"]]);
  const lines = new CursorLines(encodeEventBody({ data: "hi" }), (c) => positions.get(c));
  const ab = lines.bytesFor(cursorSet(["a", "b"]));
  assertStrictEquals(lines.bytesFor(cursorSet(["b", "a"])), ab);
  assertEquals(text(ab), "data: hi\nid: 5-0@a,7-1@b\n\n");
  assertEquals(text(lines.bytesFor(cursorSet(["a"]))), "data: hi\nid: 5-0@a\n\n");
});

Deno.test("a connection on several of an event's channels takes it from the first of them only", () => {
  const event = ["x", "a", "b"];
  assertEquals(takesFrom(["a", "b"], event, "a"), true);
  assertEquals(takesFrom(["a", "b"], event, "b"), false);
  assertEquals(takesFrom(["b"], event, "b"), true);
  assertEquals(takesFrom(["x", "b"], event, "b"), false);
});
