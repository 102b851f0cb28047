/**
 * Behaviour every shared broker must have, checked the same way for each.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { type HubPair, subscribeTo } from "./process.ts";
import { publishJson } from "./server.ts";

/**
 * A publish on either instance reaches the subscribers on both, once each,
 * with its event type; with `sharedIds`, every instance shows the same id.
 */
export async function assertCrossInstanceDelivery(
  { a, b }: HubPair,
  options: { sharedIds: boolean },
): Promise<void> {
  await using onA = await subscribeTo(a, "news");
  await using onB = await subscribeTo(b, "news,other");
  const { status, body } = await publishJson(a.url.origin, {
    channel: ["news", "other"],
    data: "hi",
    event: "note",
  });
  assertEquals([status, body.delivered], [200, 1]);
  for (const sse of [onA, onB]) {
    const event = await sse.nextEvent(15_000);
    assertEquals([event.event, event.data], ["note", "hi"]);
    if (options.sharedIds) assertEquals(event.id, body.id);
  }
  await publishJson(b.url.origin, { channel: "news", data: "second" });
  for (const sse of [onA, onB]) assertEquals((await sse.nextEvent(15_000)).data, "second");
}
