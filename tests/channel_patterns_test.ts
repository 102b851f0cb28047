import { assertEquals } from "@std/assert";
import { compilePattern, matchesAny } from "../src/channel_patterns.ts";

Deno.test("a star pattern matches channels with that prefix and nothing else", () => {
  const isPrivate = compilePattern("private.*");
  assertEquals(isPrivate("private.a"), true);
  assertEquals(isPrivate("private."), true);
  assertEquals(isPrivate("privateXa"), false);
  assertEquals(isPrivate("public.a"), false);
});

Deno.test("a pattern without a star matches only the exact channel", () => {
  const news = compilePattern("news");
  assertEquals(news("news"), true);
  assertEquals(news("news2"), false);
});

Deno.test("matchesAny is true when one of the patterns matches", () => {
  const patterns = ["private.*", "user.*"].map(compilePattern);
  assertEquals(matchesAny(patterns, "user.42"), true);
  assertEquals(matchesAny(patterns, "news"), false);
});
