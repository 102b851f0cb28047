/**
 * Compound cursors: one `Last-Event-ID` that holds a position per channel.
 *
 * A broker that orders events per channel (Redis Cluster: each channel's
 * history lives on its own shard, with no order between shards) cannot give
 * a connection on several channels one id that orders all of them. Its
 * events carry their channel's position instead, and each stream's `id:`
 * line lists the position of every channel of the connection:
 * `<position>@<channel>,<position>@<channel>…` (channel names
 * percent-encoded, so the id is ASCII). Replaying after it reads each
 * channel's history after its own position: exact, whichever shard holds
 * which channel and whichever instance the client reconnects to.
 *
 * Connections on the same channels share their id line, so the hub builds
 * it once per event for each distinct set of channels, not per connection.
 *
 * @example
 * ```ts
 * import { formatCursor, parseCursor } from "./cursor.ts";
 * const positions = new Map([["news", "17-0"], ["user.42", "9-3"]]);
 * const id = formatCursor(["news", "user.42"], (c) => positions.get(c));
 * id; // "17-0@news,9-3@user.42"
 * parseCursor(id)?.get("user.42"); // "9-3"
 * ```
 *
 * @module
 */

import { encodeIdEnd } from "./encode.ts";
import { parseId } from "./ids.ts";

/** The position of a channel that has had no event yet. */
export const START = "0-0";

/** Channel names in a cursor: percent-encoded, so the id is ASCII and holds no `,` or `@`. */
function encodeName(channel: string): string {
  return encodeURIComponent(channel);
}

/**
 * The cursor of a connection on `channels`, each at `position(channel)`
 * ({@linkcode START} when unknown), in the order given.
 */
export function formatCursor(
  channels: readonly string[],
  position: (channel: string) => string | undefined,
): string {
  let text = "";
  for (const channel of channels) {
    if (text) text += ",";
    text += `${position(channel) ?? START}@${encodeName(channel)}`;
  }
  return text;
}

/**
 * Channel → position from a cursor; `null` when `text` is not a cursor (a
 * plain id from a single Redis, a cyclone-sse UUID, a typo).
 */
export function parseCursor(text: string): Map<string, string> | null {
  const positions = new Map<string, string>();
  for (const part of text.split(",")) {
    const at = part.indexOf("@");
    if (at < 0) return null;
    const position = part.slice(0, at);
    if (!parseId(position)) return null;
    let channel: string;
    try {
      channel = decodeURIComponent(part.slice(at + 1));
    } catch {
      return null;
    }
    if (!channel) return null;
    positions.set(channel, position);
  }
  return positions;
}

/**
 * The canonical order of a connection's channels in its cursor, and the key
 * that connections on the same channels share.
 */
export function cursorChannels(channels: readonly string[]): readonly string[] {
  return [...channels].sort();
}

/** A connection's channels in cursor order, and the key it shares with connections on the same ones. */
export interface CursorSet {
  readonly channels: readonly string[];
  readonly key: string;
}

/** The {@linkcode CursorSet} of a connection on `channels`. */
export function cursorSet(channels: readonly string[]): CursorSet {
  const sorted = cursorChannels(channels);
  return { channels: sorted, key: sorted.join(",") };
}

/**
 * The bytes one event is written with, per set of channels: its body and the
 * `id:` line of the cursor at this event, built once per set and shared by
 * every connection on that set.
 */
export class CursorLines {
  readonly #body: Uint8Array;
  readonly #position: (channel: string) => string | undefined;
  readonly #built = new Map<string, Uint8Array>();

  /** `body` from `encodeEventBody`; `position` gives each channel's position after this event. */
  constructor(body: Uint8Array, position: (channel: string) => string | undefined) {
    this.#body = body;
    this.#position = position;
  }

  /** The event's bytes for connections on `set`. */
  bytesFor(set: CursorSet): Uint8Array {
    let bytes = this.#built.get(set.key);
    if (!bytes) {
      bytes = encodeIdEnd(this.#body, formatCursor(set.channels, this.#position));
      this.#built.set(set.key, bytes);
    }
    return bytes;
  }
}

/**
 * Whether a connection on `subscribed` takes an event published to
 * `eventChannels` from its copy on `channel`. Each channel's copy travels
 * separately, so a connection on several of them takes it from the first of
 * the event's channels it is on, and skips the others: once live, and once
 * in a replay.
 */
export function takesFrom(
  subscribed: readonly string[],
  eventChannels: readonly string[],
  channel: string,
): boolean {
  for (const candidate of eventChannels) {
    if (candidate === channel) return true;
    if (subscribed.includes(candidate)) return false;
  }
  return false;
}
