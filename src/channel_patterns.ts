/**
 * Glob-style channel patterns (`private.*`, `user.*`, `news`): `*` matches any run of
 * characters (including none); every other character matches itself.
 * @module
 */

/** A compiled channel pattern. */
export type ChannelPattern = (channel: string) => boolean;

/**
 * Compiles a glob-style pattern into a matcher.
 * @example
 * ```ts
 * import { compilePattern } from "./channel_patterns.ts";
 * const isPrivate = compilePattern("private.*");
 * isPrivate("private.a"); // true
 * isPrivate("public.a"); // false
 * ```
 */
export function compilePattern(pattern: string): ChannelPattern {
  const source = pattern.split("*").map(escapeRegExp).join(".*");
  const regex = new RegExp(`^${source}$`, "s");
  return (channel) => regex.test(channel);
}

/** True when `channel` matches any of `patterns`. */
export function matchesAny(patterns: readonly ChannelPattern[], channel: string): boolean {
  return patterns.some((matches) => matches(channel));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
