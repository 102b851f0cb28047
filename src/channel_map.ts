/**
 * Members by channel, for the hub. A channel with one member holds it as it
 * is and gets a `Set` only when a second one joins: every connection has its
 * own `client:TOKEN` channel, and per-user channels mostly have one reader,
 * so this saves a `Set` (about 0.8 KB of memory) per connection.
 *
 * @example
 * ```ts
 * import { ChannelMap } from "./channel_map.ts";
 * const [alice, bob] = [{ name: "alice" }, { name: "bob" }];
 * const channels = new ChannelMap<{ name: string }>();
 * channels.add("news", alice); // true: a new channel
 * channels.add("news", bob); // false
 * [...channels.members("news")]; // [alice, bob]
 * channels.count("news"); // 2
 * ```
 *
 * @module
 */

const NONE: readonly never[] = [];

/** Members (objects, never `Set`s themselves) by channel name. */
export class ChannelMap<T extends object> {
  readonly #map = new Map<string, T | Set<T>>();

  /** Number of channels with at least one member. */
  get size(): number {
    return this.#map.size;
  }

  /** Adds `member` to `channel`; true when the channel had no member before. */
  add(channel: string, member: T): boolean {
    const entry = this.#map.get(channel);
    if (entry === undefined) {
      this.#map.set(channel, member);
      return true;
    }
    if (entry instanceof Set) entry.add(member);
    else if (entry !== member) this.#map.set(channel, new Set([entry, member]));
    return false;
  }

  /** Removes `member` from `channel`; true when that left the channel empty. */
  delete(channel: string, member: T): boolean {
    const entry = this.#map.get(channel);
    if (entry === undefined) return false;
    if (entry instanceof Set) {
      entry.delete(member);
      if (entry.size === 1) this.#map.set(channel, entry.values().next().value!);
      return false;
    }
    if (entry !== member) return false;
    this.#map.delete(channel);
    return true;
  }

  /** The members of `channel` (none when it has none). */
  members(channel: string): Iterable<T> {
    const entry = this.#map.get(channel);
    if (entry === undefined) return NONE;
    return entry instanceof Set ? entry : [entry];
  }

  /** How many members `channel` has. */
  count(channel: string): number {
    const entry = this.#map.get(channel);
    if (entry === undefined) return 0;
    return entry instanceof Set ? entry.size : 1;
  }

  /** The channel names. */
  names(): IterableIterator<string> {
    return this.#map.keys();
  }
}
