/**
 * Replay on reconnect: what a subscriber missed is written first, paced by
 * its transport, while live events that arrive meanwhile wait in a pending
 * queue; then the queue is drained, without duplicates or reordering. A
 * replay that is not everything the client missed starts with a gap event.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { concat } from "@std/bytes/concat";
import type { Broker } from "./brokers/broker.ts";
import { isClientChannel } from "./channels.ts";
import { encodeEvent } from "./encode.ts";
import { UnavailableError } from "./errors.ts";
import type { HubEvent } from "./event.ts";
import type { GapReason } from "./history.ts";
import { compareIds, parseId } from "./ids.ts";
import type { Subscriber } from "./subscriber.ts";

const log = getLogger(["sse-hub", "replay"]);

/** Event type of the signal sent before a replay that is not complete. */
export const GAP_EVENT = "sse-hub.gap";

/**
 * Most live events held for one subscriber while its replay is written; a
 * client that cannot take its replay faster than that is cut off as slow.
 */
const MAX_PENDING = 10_000;

/** What {@linkcode Replays.run} replays, from where, and when. */
export interface ReplayRequest {
  /** The client's Last-Event-ID. */
  readonly lastEventId: string;
  /** The channels whose history is asked for. */
  readonly channels: readonly string[];
  /** All of the connection's channels (for brokers with compound cursors). */
  readonly cursorChannels: readonly string[];
  readonly broker: Broker;
  /** Whether the subscriber is still connected. */
  readonly isOpen: () => boolean;
  /** Settles once the broker delivers every channel live. */
  readonly after: Promise<unknown>;
}

/** What {@linkcode Replays.hold} did with a live event. */
export type Held = "held" | "overflow" | "not-replaying";

/** A live event held during a replay, with the bytes it is written with. */
interface Pending {
  readonly event: HubEvent;
  readonly bytes: Uint8Array;
}

/** The replays in flight, and the live events waiting behind each. */
export class Replays {
  readonly #pending = new Map<Subscriber, Pending[]>();

  /** Whether any replay is in flight (the hot path checks this first). */
  get active(): boolean {
    return this.#pending.size !== 0;
  }

  /** Queues a live event (written as `bytes`, then `rest` if given) for `sub` if its replay is in flight. */
  hold(sub: Subscriber, event: HubEvent, bytes: Uint8Array, rest?: Uint8Array): Held {
    const pending = this.#pending.get(sub);
    if (!pending) return "not-replaying";
    if (pending.length >= MAX_PENDING) return "overflow";
    pending.push({ event, bytes: rest ? concat([bytes, rest]) : bytes });
    return "held";
  }

  /** Forgets `sub` (it closed). */
  delete(sub: Subscriber): void {
    this.#pending.delete(sub);
  }

  /**
   * Writes what `sub` missed after `lastEventId` on `channels` (a gap event
   * first when that is not everything), then the live events that arrived
   * meanwhile. Asks the broker only once `after` settles; stops early once
   * `isOpen` says the subscriber is gone. Returns how many events were
   * replayed from history.
   */
  async run(sub: Subscriber, request: ReplayRequest): Promise<number> {
    const { lastEventId, channels, broker, isOpen, after } = request;
    const pending: Pending[] = [];
    this.#pending.set(sub, pending);
    let replayed = 0;
    let covers = (_event: HubEvent) => false;
    try {
      await after;
      const replay = await askPatiently(
        () => broker.replay(channels, lastEventId, request.cursorChannels),
        isOpen,
      );
      for (const gap of replay.gaps ?? []) sub.write(encodeGap(gap, lastEventId));
      await writePaced(sub, replay.events.map((event) => event.bytes), isOpen);
      replayed = replay.events.length;
      const last = replay.events.at(-1)?.id;
      covers = replay.covers ?? ((event) =>
        // Only what the replay covered can be a duplicate of it.
        event.channels.some((c) => channels.includes(c)) && !isAfter(event, last));
    } catch (error) {
      // A broker outage is logged once by the broker, with its counts.
      const level = error instanceof UnavailableError ? "debug" : "warning";
      log[level]("replay for {id} failed: {error}", {
        id: sub.id,
        error: error instanceof Error ? error.message : String(error),
      });
      sub.write(encodeGap({ reason: "replay-failed", channels }, lastEventId));
    }
    // Live events that arrived meanwhile, newer than the replay; more may
    // arrive while these are written, so drain until none are left.
    let start = 0;
    while (start < pending.length && isOpen()) {
      const batch = pending.slice(start).filter(({ event }) => !covers(event));
      start = pending.length;
      await writePaced(sub, batch.map(({ bytes }) => bytes), isOpen);
    }
    this.#pending.delete(sub);
    return replayed;
  }
}

/** How long a replay waits for a broker that is down or catching up before it gives up. */
const REPLAY_WAIT_MS = 5000;
/** Pause between asks meanwhile. */
const REPLAY_RETRY_MS = 250;

/**
 * Asks until the broker answers, for at most {@linkcode REPLAY_WAIT_MS}
 * while it says it is unavailable: a client that reconnects during a short
 * broker restart then gets its exact replay instead of a gap.
 */
async function askPatiently<T>(ask: () => Promise<T>, isOpen: () => boolean): Promise<T> {
  const deadline = Date.now() + REPLAY_WAIT_MS;
  for (;;) {
    try {
      return await ask();
    } catch (error) {
      if (!(error instanceof UnavailableError) || Date.now() >= deadline || !isOpen()) throw error;
      await new Promise((resolve) => setTimeout(resolve, REPLAY_RETRY_MS));
    }
  }
}

/** Writes events' bytes one by one, waiting for the transport to have room. */
async function writePaced(
  sub: Subscriber,
  events: readonly Uint8Array[],
  isOpen: () => boolean,
): Promise<void> {
  for (const bytes of events) {
    await sub.ready();
    if (!isOpen()) return;
    sub.write(bytes);
  }
}

/** Whether a live event that arrived during replay is newer than the replay's last event. */
function isAfter(event: HubEvent, lastReplayed: string | undefined): boolean {
  if (event.id === undefined || lastReplayed === undefined) return true;
  if (!parseId(event.id)) return true;
  return compareIds(event.id, lastReplayed) > 0;
}

/** Why a stream gets a gap event: a history answer, or a failure. */
export type GapSignal =
  | GapReason
  /** The history could not be read (e.g. the broker is down). */
  | "replay-failed"
  /** Live events may have been lost in a broker outage this instance could not catch up from. */
  | "interrupted";

/**
 * The signal that a client did not get everything it should have: which
 * channels, why, and the last event id it had. It has no `id:` line, so the
 * client's last event id is unchanged.
 *
 * @example
 * ```ts
 * import { encodeGap } from "./replay.ts";
 * const bytes = encodeGap({ reason: "evicted", channels: ["news"] }, "5-0");
 * new TextDecoder().decode(bytes);
 * // 'event: sse-hub.gap\ndata: {"reason":"evicted","channels":["news"],"lastEventId":"5-0"}\n\n'
 * ```
 */
export function encodeGap(
  gap: { readonly reason: GapSignal; readonly channels: readonly string[] },
  lastEventId: string | undefined,
): Uint8Array {
  // The connection's own client: channel is named only when it alone lost events.
  const named = gap.channels.filter((channel) => !isClientChannel(channel));
  const channels = named.length > 0 ? named : gap.channels;
  return encodeEvent({
    event: GAP_EVENT,
    data: JSON.stringify({ reason: gap.reason, channels, lastEventId }),
  });
}
