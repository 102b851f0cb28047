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
 * The hub writes an event as one chunk shared by every connection (its body
 * and the event's own `<position>@<channel>`), then, for a connection on
 * several channels, the rest of its id line: the other channels' positions,
 * which this event did not move, kept by the connection's set of channels
 * and rebuilt only when one of them moves. Nothing is built per connection
 * per event, even for connections whose sets are their own (a `client:`
 * channel).
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

const encoder = new TextEncoder();
/** The blank line that ends an event (`encodeIdEnd` writes it after the id). */
const END_LENGTH = 2;

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

/** The end of an id line: the other channels' positions, as they were when built. */
interface Rest {
  readonly positions: string[];
  readonly bytes: Uint8Array;
}

/**
 * The channels of the connections on one set, in cursor order, with the key
 * they share. It keeps, for each of its channels, the end of the id line
 * that an event on that channel takes (the positions of the others), and
 * builds it again only when one of those moved: an event on `news` reaches
 * connections on `news` plus a `client:` channel of their own with one
 * shared chunk and each connection's unchanged end, not bytes made per
 * connection.
 */
export class CursorSet {
  readonly channels: readonly string[];
  readonly key: string;
  readonly #rests = new Map<string, Rest>();

  constructor(channels: readonly string[]) {
    this.channels = cursorChannels(channels);
    this.key = this.channels.join(",");
  }

  /** `,<position>@<channel>…\n\n` for the channels other than `channel`, at `position`. */
  restFor(channel: string, position: (channel: string) => string | undefined): Uint8Array {
    const others = this.channels;
    const rest = this.#rests.get(channel);
    if (rest) {
      let same = true;
      for (let i = 0, j = 0; i < others.length; i++) {
        if (others[i] === channel) continue;
        if (rest.positions[j++] !== (position(others[i]) ?? START)) {
          same = false;
          break;
        }
      }
      if (same) return rest.bytes;
    }
    const rested = others.filter((c) => c !== channel);
    const built = {
      positions: rested.map((c) => position(c) ?? START),
      bytes: encoder.encode(`,${formatCursor(rested, position)}\n\n`),
    };
    this.#rests.set(channel, built);
    return built.bytes;
  }
}

/**
 * One {@linkcode CursorSet} per distinct set of channels, shared by the
 * connections on it (so is what it keeps), and dropped with the last one.
 */
export class CursorSets {
  readonly #sets = new Map<string, { set: CursorSet; users: number }>();

  /** The shared set for a connection on `channels`; give it back with {@linkcode release}. */
  take(channels: readonly string[]): CursorSet {
    const key = cursorChannels(channels).join(",");
    let entry = this.#sets.get(key);
    if (!entry) {
      entry = { set: new CursorSet(channels), users: 0 };
      this.#sets.set(key, entry);
    }
    entry.users++;
    return entry.set;
  }

  /** A connection on `set` is gone. */
  release(set: CursorSet): void {
    const entry = this.#sets.get(set.key);
    if (entry && --entry.users === 0) this.#sets.delete(set.key);
  }

  /** How many distinct sets are in use. */
  get size(): number {
    return this.#sets.size;
  }
}

/**
 * The bytes one event, its copy on `channel`, is written with: one chunk
 * shared by every connection (its body and the start of the `id:` line,
 * `<position>@<channel>`), complete for connections on that channel alone;
 * connections on more channels take it and their set's
 * {@linkcode CursorSet.restFor} (see {@linkcode CursorLines.restFor}).
 */
export class CursorLines {
  readonly #position: (channel: string) => string | undefined;
  readonly #channel: string;
  /** The whole event for a connection on this channel alone. */
  readonly #alone: Uint8Array;
  /** The same bytes without the blank line that ends the event. */
  readonly #head: Uint8Array;

  /**
   * `body` from `encodeEventBody`; `position` gives each channel's position
   * after this event.
   */
  constructor(
    body: Uint8Array,
    channel: string,
    position: (channel: string) => string | undefined,
  ) {
    this.#position = position;
    this.#channel = channel;
    this.#alone = encodeIdEnd(body, formatCursor([channel], position));
    this.#head = this.#alone.subarray(0, this.#alone.length - END_LENGTH);
  }

  /** The chunk every connection takes first: complete for a connection on this channel only. */
  headFor(set: CursorSet): Uint8Array {
    return set.channels.length > 1 ? this.#head : this.#alone;
  }

  /** The end of the id line for a connection on `set`, or `undefined` when the head is complete. */
  restFor(set: CursorSet): Uint8Array | undefined {
    return set.channels.length > 1 ? set.restFor(this.#channel, this.#position) : undefined;
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
