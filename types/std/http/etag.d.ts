// Declarations for `@std/http/etag` as shipped by the npm package
// deno-std@1.4.0 (http/etag.js), which has no types of its own.

/** Options for {@linkcode eTag}. */
export interface ETagOptions {
  /** The digest algorithm (default `SHA-256`). */
  algorithm?: AlgorithmIdentifier;
  /** Make a weak validator (`W/"…"`); the default for file info. */
  weak?: boolean;
}

/** The ETag of a body (a strong one unless `weak`). */
export function eTag(
  entity: string | Uint8Array,
  options?: ETagOptions,
): Promise<string | undefined>;

/** Whether an `If-Match` header value matches `etag` (strong comparison). */
export function ifMatch(value: string | null, etag: string | undefined): boolean;

/** False when an `If-None-Match` header value matches `etag` (weak comparison): answer 304. */
export function ifNoneMatch(value: string | null, etag: string | undefined): boolean;
