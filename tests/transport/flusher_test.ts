import { assert, assertEquals } from "@std/assert";
import { Flusher, SLICE_MS } from "../../src/transport/flusher.ts";

const turn = () => new Promise((resolve) => setTimeout(resolve, 0));
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
};

Deno.test("a flusher flushes each added item once, in order, after the current task", async () => {
  const flusher = new Flusher();
  const flushed: number[] = [];
  for (let i = 0; i < 3; i++) flusher.add({ flush: () => flushed.push(i) });
  assertEquals(flushed, []);
  assertEquals(flusher.pending, 3);
  await turn();
  assertEquals(flushed, [0, 1, 2]);
  assertEquals(flusher.pending, 0);
});

Deno.test("a long pass yields between slices, and items added meanwhile join the same pass", async () => {
  let yields = 0;
  const flusher = new Flusher(async () => {
    yields++;
    await turn();
  });
  const flushed: string[] = [];
  // Enough work for several slices: 256 items of a quarter slice each.
  for (let i = 0; i < 256; i++) {
    flusher.add({
      flush: () => {
        spin(SLICE_MS / 64);
        flushed.push(`a${i}`);
      },
    });
  }
  // Runs at the first yield, while the pass is under way.
  const late = new Promise<void>((resolve) =>
    setTimeout(() => {
      flusher.add({ flush: () => flushed.push("late") });
      resolve();
    }, 0)
  );
  await late;
  assert(flushed.length < 256, `the pass did not yield: ${flushed.length} flushed first`);
  while (flusher.pending > 0) await turn();
  assert(yields >= 2, `expected at least 2 yields, saw ${yields}`);
  assertEquals(flushed.length, 257);
  assertEquals(flushed.at(-1), "late");
});

Deno.test("an item whose flush throws does not stop the others", async () => {
  const flusher = new Flusher();
  const flushed: string[] = [];
  flusher.add({
    flush: () => {
      throw new Error("socket gone");
    },
  });
  flusher.add({ flush: () => flushed.push("next") });
  await turn();
  assertEquals(flushed, ["next"]);
});
