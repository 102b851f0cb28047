import { assertEquals, assertThrows } from "@std/assert";
import { parseClusterSeeds } from "../../src/brokers/redis_cluster_seeds.ts";
import { ConfigError } from "../../src/errors.ts";

Deno.test("cluster seeds are HOST:PORT pairs, without credentials or TLS", () => {
  assertEquals(parseClusterSeeds("10.0.0.1:7000, 10.0.0.2:7001"), {
    nodes: [{ host: "10.0.0.1", port: 7000 }, { host: "10.0.0.2", port: 7001 }],
    tls: false,
  });
});

Deno.test("rediss:// seeds give TLS and their credentials to every node", () => {
  assertEquals(parseClusterSeeds("rediss://app:s%40cret@redis-0:6380,redis-1:6380"), {
    nodes: [{ host: "redis-0", port: 6380 }, { host: "redis-1", port: 6380 }],
    tls: true,
    username: "app",
    password: "s@cret",
  });
});

Deno.test("a bad seed is refused with its value and the expected form", () => {
  for (const bad of ["", "redis-0:99999", "http://redis-0:7000", "redis://r:1/0"]) {
    const error = assertThrows(() => parseClusterSeeds(bad), ConfigError);
    assertEquals(/HOST:PORT/.test(error.message), true, error.message);
  }
});

Deno.test("seeds with different credentials or schemes are refused", () => {
  assertThrows(
    () => parseClusterSeeds("redis://:a@r0:7000,redis://:b@r1:7000"),
    ConfigError,
    "different credentials",
  );
  assertThrows(
    () => parseClusterSeeds("redis://r0:7000,rediss://r1:7000"),
    ConfigError,
    "one scheme",
  );
});
