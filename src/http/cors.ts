/**
 * CORS: `*` lets any origin read (no credentials); a list of origins is
 * echoed back for matching requests, with credentials allowed, so cookie or
 * token-authenticated pages on those origins can subscribe.
 *
 * @module
 */

const ALLOW_HEADERS =
  "Last-Event-ID, Content-Type, Authorization, X-Publish-Key, X-Requested-With, Cache-Control";

/** The CORS headers for a response to a request from `origin`. */
export function corsHeaders(
  allowed: readonly string[],
  origin: string | null,
): Record<string, string> {
  if (allowed.includes("*")) return { "access-control-allow-origin": "*" };
  if (origin === null || !allowed.includes(origin)) {
    return allowed.length > 0 ? { vary: "Origin" } : {};
  }
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    vary: "Origin",
  };
}

/** The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`). */
export function preflight(
  allowed: readonly string[],
  origin: string | null,
  methods: readonly string[],
): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...corsHeaders(allowed, origin),
      "access-control-allow-methods": methods.join(", "),
      "access-control-allow-headers": ALLOW_HEADERS,
      "access-control-max-age": "86400",
      allow: methods.join(", "),
    },
  });
}

/** Adds CORS headers to a response made by a route. */
export function withCors(
  response: Response,
  allowed: readonly string[],
  origin: string | null,
): Response {
  for (const [name, value] of Object.entries(corsHeaders(allowed, origin))) {
    response.headers.set(name, value);
  }
  return response;
}
