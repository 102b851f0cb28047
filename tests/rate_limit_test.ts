import { assertAlmostEquals, assertEquals, assertThrows } from "@std/assert";
import { TooManyRequestsError } from "../src/errors.ts";
import { RateLimiter } from "../src/rate_limit.ts";

Deno.test("a bucket allows a burst of `rate`, then one more per 1/rate seconds, per key", () => {
  let now = 0;
  const limiter = new RateLimiter(2, () => now);
  assertEquals([limiter.take("a"), limiter.take("a")], [0, 0]);
  assertAlmostEquals(limiter.take("a"), 0.5, 1e-9);
  assertEquals(limiter.take("b"), 0);
  now = 500;
  assertEquals(limiter.take("a"), 0);
  assertAlmostEquals(limiter.take("a"), 0.5, 1e-9);
});

Deno.test("enforce throws 429 naming --publish-rate once a key's bucket is empty", () => {
  const limiter = new RateLimiter(1, () => 0);
  limiter.enforce("a");
  const error = assertThrows(() => limiter.enforce("a"), TooManyRequestsError, "--publish-rate");
  assertEquals([error.status, error.headers["retry-after"]], [429, "1"]);
});
