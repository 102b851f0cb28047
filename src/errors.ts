/**
 * Domain errors: what code below the HTTP layer throws when input breaks the
 * protocol, a dependency is down, or the configuration is wrong. They know
 * nothing of HTTP; `src/http/respond.ts` maps them to statuses in one place
 * (400 and 503), and the CLI maps {@linkcode ConfigError} to exit code 2.
 *
 * @module
 */

/**
 * Input that breaks the SSE protocol or sse-hub's naming rules (a line break
 * in an event type, an empty channel name…). A `SyntaxError`, as Deno std
 * throws for the same violations; the message names the bad value and the fix.
 *
 * @example
 * ```ts
 * import { ProtocolError } from "./errors.ts";
 * const error = new ProtocolError("channel name is empty; give a non-empty name");
 * error instanceof SyntaxError; // true
 * ```
 */
export class ProtocolError extends SyntaxError {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** The broker cannot take or deliver events right now; retrying later may work. */
export class UnavailableError extends Error {
  /** Seconds after which a retry makes sense. */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds = 5) {
    super(message);
    this.name = "UnavailableError";
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A configuration value, flag or file is invalid; the CLI exits with code 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
