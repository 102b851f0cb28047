/**
 * Credentials: the publish key, compared in constant time.
 *
 * @module
 */

import { UnauthorizedError } from "./http/errors.ts";

const encoder = new TextEncoder();

/** Compares two strings in time that depends only on their lengths. */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  }
  return diff === 0;
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
