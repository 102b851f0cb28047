/**
 * Small response builders shared by every route, and the one place an error
 * becomes a response.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { ProtocolError, UnavailableError } from "../errors.ts";
import { HttpError } from "./errors.ts";

const log = getLogger(["sse-hub", "http"]);

/** A JSON response. */
export function json(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/**
 * Turns anything thrown by a route into a response: an {@linkcode HttpError}
 * becomes its status, a {@linkcode ProtocolError} (bad input found below the
 * HTTP layer) 400, an {@linkcode UnavailableError} (the broker is down) 503
 * with `Retry-After`, each with `{"status":"error","error":message}`;
 * anything else is logged and answered with 500, without internals.
 */
export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return json({ status: "error", error: error.message }, error.status, error.headers);
  }
  if (error instanceof ProtocolError) {
    return json({ status: "error", error: error.message }, 400);
  }
  if (error instanceof UnavailableError) {
    return json({ status: "error", error: error.message }, 503, {
      "retry-after": String(error.retryAfterSeconds),
    });
  }
  log.error("unexpected error: {error}", { error });
  return json({ status: "error", error: "internal server error" }, 500);
}
