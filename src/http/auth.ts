/**
 * Credentials: the publish key, compared in constant time.
 *
 * @module
 */

import { createHash, timingSafeEqual as cryptoTimingSafeEqual } from "node:crypto";
import { UnauthorizedError } from "./errors.ts";

/**
 * Compares two strings in time that does not depend on where they differ:
 * both are hashed to the same length first, then compared with
 * `node:crypto`'s constant-time comparison.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return cryptoTimingSafeEqual(digest(a), digest(b));
}

/**
 * The publish key a request offers: `X-Publish-Key`, `Authorization: Bearer`,
 * or the body's `key` field (cyclone-sse), in that order.
 */
export function offeredKey(
  request: Request,
  bodyKey: string | undefined,
): string | undefined {
  const header = request.headers.get("x-publish-key");
  if (header !== null) return header.trim();
  const auth = request.headers.get("authorization");
  const bearer = auth?.match(/^Bearer\s+(.+)$/i);
  if (bearer) return bearer[1].trim();
  return bodyKey?.trim();
}

/** Whether a credential has the shape of a JWT (three base64url parts). */
export function looksLikeJwt(credential: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(credential);
}

/** Throws 401 unless `offered` matches `required` (no key required when it is empty). */
export function checkPublishKey(
  required: string,
  offered: string | undefined,
): void {
  if (required === "") return;
  if (offered === undefined || offered === "") {
    throw new UnauthorizedError(
      "a publish key is required; send it as the key field, an X-Publish-Key header or Authorization: Bearer",
    );
  }
  if (!timingSafeEqual(offered, required)) {
    throw new UnauthorizedError("the publish key is wrong");
  }
}
