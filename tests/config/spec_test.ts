import { assertEquals, assertThrows } from "@std/assert";
import { DURATION_UNITS, flag, parseAmount, SIZE_UNITS } from "../../src/config/spec.ts";

Deno.test("one amount parser reads durations and sizes, with or without a unit", () => {
  assertEquals(
    ["15", "1.5s", "500MS", 2, "2m"].map((raw) => parseAmount(raw, DURATION_UNITS, "s")),
    [15_000, 1500, 500, 2000, 120_000],
  );
  assertEquals(
    ["65536", "64KiB", "1m", " 2 GB "].map((raw) => parseAmount(raw, SIZE_UNITS, "b")),
    [65_536, 65_536, 1024 ** 2, 2 * 1024 ** 3],
  );
});

Deno.test("the amount parser refuses unknown units, signs and non-numbers", () => {
  for (const raw of ["15x", "-1", "soon", "", true, "1e3", "5 ms s"]) {
    assertEquals(parseAmount(raw, DURATION_UNITS, "s"), undefined, String(raw));
  }
  assertEquals(parseAmount("1h", SIZE_UNITS, "b"), undefined);
});

Deno.test("a true|false option reads words of either case and TOML booleans, and names a bad value", () => {
  const option = flag({ help: "h", default: true });
  assertEquals(
    ["false", "TRUE", "no", "1", false].map((raw) => option.parse(raw)),
    [false, true, false, true, false],
  );
  assertThrows(() => option.parse("maybe"), Error, 'got "maybe"');
});
