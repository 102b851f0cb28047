/**
 * Broker URLs in messages, without their passwords.
 *
 * @module
 */

/**
 * The URL without its password, for logs and error messages.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * redactUrl("redis://:secret@cache:6379/0"); // "redis://:***@cache:6379/0"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url;
  }
}
