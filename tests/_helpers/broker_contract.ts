/**
 * Behaviour every shared broker must have, checked the same way for each.
 *
 * @module
 */

import { assertEquals } from "@std/assert";
import { type HubPair, subscribeTo } from "./process.ts";
import { openSse, publishJson, waitFor } from "./server.ts";

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

/** Resolves once the server at `origin` lists `channel` in /stats (its broker delivers it). */
async function waitForChannel(origin: string, channel: string): Promise<void> {
  await waitFor(
    async () => {
      const stats: [string, number][] = await (await fetch(`${origin}/stats`)).json();
      return stats.some(([name]) => name === channel);
    },
    `a subscription to ${channel} at ${origin}`,
    15_000,
  );
}

/** Two places to connect: instances of one broker, or the same server twice. */
export interface Origins {
  /** Where the client first listens and events are published. */
  readonly first: string;
  /** Where the client reconnects. */
  readonly second: string;
}

/** The origins of a spawned pair. */
export function pairOrigins({ a, b }: HubPair): Origins {
  return { first: a.url.origin, second: b.url.origin };
}

/** Publishes `data` on `channels` at `origin`; asserts 200 and returns the event id. */
export async function publishOk(
  origin: string,
  channels: string | string[],
  data: string,
): Promise<string> {
  const { status, body } = await publishJson(origin, { channel: channels, data });
  assertEquals(status, 200, JSON.stringify(body));
  return String(body.id);
}

/**
 * A client that saw `q1` on a quiet channel reconnects (to the other place)
 * after 1,500 events on a busy channel: it gets `q2` and no gap.
 */
export async function assertQuietChannelSurvivesBusyOne(
  { first, second }: Origins,
): Promise<void> {
  const q1 = await publishOk(first, "quiet", "q1");
  await publishOk(first, "quiet", "q2");
  for (let i = 0; i < 1500; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, j) => publishOk(first, "busy", `b${i + j}`)),
    );
  }
  await using sse = await openSse(`${second}/?channels=quiet`, { "last-event-id": q1 });
  const event = await sse.nextEvent(10_000);
  assertEquals([event.event, event.data], [undefined, "q2"]);
}

/**
 * One cursor over two channels: after events on both (and on an unrelated
 * one) the client gets exactly those of its channels, in order, each once;
 * after events on neither it gets nothing, and live events follow.
 */
export async function assertMultiChannelCursor({ first, second }: Origins): Promise<void> {
  const seen = await publishOk(first, "a", "a1");
  await publishOk(first, "b", "b1");
  await publishOk(first, "c", "c1");
  await publishOk(first, ["a", "b"], "ab");
  const last = await publishOk(first, "a", "a2");
  {
    await using sse = await openSse(`${second}/?channels=a,b`, { "last-event-id": seen });
    const events = await sse.events(3, 10_000);
    assertEquals(events.map((e) => e.data), ["b1", "ab", "a2"]);
    assertEquals(events.at(-1)!.id, last);
  }
  await publishOk(first, "c", "c2");
  await using sse = await openSse(`${second}/?channels=a,b`, { "last-event-id": last });
  await waitForChannel(second, "b");
  await publishOk(first, "b", "b2");
  assertEquals((await sse.nextEvent(10_000)).data, "b2");
}

/**
 * `POST /disconnect` on one instance closes the client's stream on the
 * other, and with `stop` the client gets 204 when it comes back to either
 * (the instances share `--client-token-secret`).
 */
export async function assertDisconnectEverywhere({ first, second }: Origins): Promise<void> {
  await using tab = await openSse(`${second}/?channels=news&client=new`);
  const token = await tab.clientToken(10_000);
  await waitForChannel(second, "news");
  const response = await fetch(`${first}/disconnect`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client: token, stop: true }),
  });
  assertEquals(response.status, 200);
  await response.body?.cancel();
  let ended = false;
  try {
    for (;;) await tab.next(10_000);
  } catch (error) {
    ended = /ended|error/i.test(String(error));
  }
  assertEquals(ended, true, "the stream on the other instance was closed");
  for (const origin of [first, second]) {
    const again = await fetch(`${origin}/?channels=news&client=${token}`);
    await again.body?.cancel();
    assertEquals(again.status, 204, `a stopped client is refused at ${origin}`);
  }
}
