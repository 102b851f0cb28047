/**
 * Channel names: what is valid, and how a subscribe URL names them.
 *
 * Both seed conventions are accepted: repeated parameters
 * (`?channels=a&channels=b`, cyclone-sse) and comma-separated values
 * (`?channels=a,b`, tornado-sse). Commas therefore cannot be part of a name.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

/** Prefix of the channel that reaches one connection: `client:<token>`. */
export const CLIENT_PREFIX = "client:";

/** Whether `channel` is a per-connection `client:<token>` channel. */
export function isClientChannel(channel: string): boolean {
  return channel.startsWith(CLIENT_PREFIX);
}

/** Names sse-hub uses for its own keys and channels in a broker (`sse-hub:events:{news}`). */
const RESERVED_PREFIX = "sse-hub:";

/** Longest accepted channel name, in UTF-16 code units. */
export const MAX_CHANNEL_LENGTH = 200;

// C0 controls, DEL and C1 controls: they have no business in a name and
// several of them break logs or the Graphite line protocol.
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Returns `name` if it is a valid channel name, otherwise throws
 * {@linkcode ProtocolError} saying what is wrong with it.
 */
export function validateChannel(name: string): string {
  if (name.length === 0) {
    throw new ProtocolError("channel name is empty; give a non-empty name");
  }
  if (name.length > MAX_CHANNEL_LENGTH) {
    throw new ProtocolError(
      `channel name ${
        JSON.stringify(name.slice(0, 40) + "…")
      } is ${name.length} characters long; the limit is ${MAX_CHANNEL_LENGTH}`,
    );
  }
  if (CONTROL.test(name)) {
    throw new ProtocolError(
      `channel name ${
        JSON.stringify(name)
      } contains a control character; use printable characters only`,
    );
  }
  if (name.includes("\uFFFD")) {
    throw new ProtocolError(
      `channel name ${
        JSON.stringify(name)
      } contains U+FFFD: the URL probably held bytes that are not UTF-8; percent-encode UTF-8`,
    );
  }
  if (name.startsWith(RESERVED_PREFIX)) {
    throw new ProtocolError(
      `channel name ${
        JSON.stringify(name)
      } starts with "${RESERVED_PREFIX}", which sse-hub keeps for its own broker channels; rename it`,
    );
  }
  if (name.includes(",")) {
    throw new ProtocolError(
      `channel name ${
        JSON.stringify(name)
      } contains ','; commas separate channels, so a name cannot hold one`,
    );
  }
  return name;
}

/**
 * Splits, trims, de-duplicates and validates channel names from repeated
 * and/or comma-separated values, keeping first-seen order.
 *
 * @example
 * ```ts
 * import { parseChannelList } from "./channels.ts";
 * parseChannelList(["a, b", "a"], 32); // ["a", "b"]
 * ```
 */
export function parseChannelList(
  values: readonly string[],
  maxChannels: number,
): string[] {
  const seen = new Set<string>();
  for (const value of values) {
    for (const part of value.split(",")) {
      seen.add(validateChannel(part.trim()));
    }
  }
  if (seen.size > maxChannels) {
    throw new ProtocolError(
      `${seen.size} channels requested; at most ${maxChannels} are allowed per request (--max-channels)`,
    );
  }
  return [...seen];
}
