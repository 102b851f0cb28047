import { assertEquals } from "@std/assert";
import { IoYield } from "../../src/transport/io_yield.ts";

Deno.test("an I/O yield lets a socket be served while the loop stays busy with immediates", async () => {
  using io = await IoYield.open();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await accepted;
  const buffer = new Uint8Array(8);
  let received = -1;
  let turns = 0;
  const reading = server.read(buffer).then(() => received = turns);
  await client.write(new Uint8Array([1]));
  // Twenty busy turns of ~2 ms, each followed by an I/O yield.
  while (turns < 20) {
    const end = performance.now() + 2;
    while (performance.now() < end) { /* busy */ }
    turns++;
    await io.wait();
  }
  await reading;
  // Without the I/O yield the read would wait for the runtime's periodic
  // socket poll (about 60 turns); with it, it completes within a few.
  assertEquals(received >= 0 && received < 5, true, `read completed after turn ${received}`);
  client.close();
  server.close();
  listener.close();
});
