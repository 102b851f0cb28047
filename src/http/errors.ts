/**
 * Errors that carry an HTTP status: routes throw them, and
 * {@linkcode errorResponse} in `respond.ts` turns any of them into a response
 * in one place. Code below the HTTP layer throws the domain errors of
 * `src/errors.ts` instead, which `respond.ts` maps too.
 *
 * @module
 */

/** A failure that maps to one HTTP status and a message meant for the client. */
export class HttpError extends Error {
  /** HTTP status code to answer with. */
  readonly status: number;
  /** Extra response headers (e.g. `Retry-After`, `Allow`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.headers = headers;
  }
}

/** 400: the request is malformed; the message names the bad value. */
export class BadRequestError extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 401: a credential is missing or wrong. */
export class UnauthorizedError extends HttpError {
  constructor(message: string, scheme = "Bearer") {
    super(401, message, { "www-authenticate": scheme });
  }
}

/** 403: the credential is valid but does not grant this. */
export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, message);
  }
}

/** 404: nothing is served at this path. */
export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, message);
  }
}

/** 405: the path exists but not for this method. */
export class MethodNotAllowedError extends HttpError {
  constructor(method: string, allowed: readonly string[]) {
    super(
      405,
      `method ${method} is not allowed here; use ${allowed.join(" or ")}`,
      { allow: allowed.join(", ") },
    );
  }
}

/**
 * 408: the request body did not arrive in time. The connection is closed
 * after the answer: the rest of the body may still be on its way.
 */
export class RequestTimeoutError extends HttpError {
  constructor(message: string) {
    super(408, message, { connection: "close" });
  }
}

/** 413: the body or message is larger than the configured limit. */
export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, message);
  }
}

/** 414: the URL is longer than the server reads. */
export class UriTooLongError extends HttpError {
  constructor(message: string) {
    super(414, message);
  }
}

/** 415: the body's content type is not one we parse. */
export class UnsupportedMediaTypeError extends HttpError {
  constructor(message: string) {
    super(415, message);
  }
}

/** 429: too many requests; retry after the given number of seconds. */
export class TooManyRequestsError extends HttpError {
  constructor(message: string, retryAfterSeconds: number) {
    super(429, message, { "retry-after": String(retryAfterSeconds) });
  }
}

/** 503: the server is draining or at its limit; retry later (elsewhere). */
export class ServiceUnavailableError extends HttpError {
  constructor(message: string, retryAfterSeconds = 5) {
    super(503, message, { "retry-after": String(retryAfterSeconds) });
  }
}
