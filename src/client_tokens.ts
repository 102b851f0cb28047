/**
 * Client tokens as capabilities. A token names one connection's `client:`
 * channel, so whoever holds it receives that connection's private messages:
 * sse-hub therefore makes its tokens itself and signs them (HMAC-SHA256 with
 * `--client-token-secret`), and accepts a token a client brings back only
 * when it carries a valid signature. Instances that share the secret accept
 * each other's tokens. With `free` tokens (`--client-tokens free`, unsafe),
 * any well-formed name is accepted, as cyclone-sse did.
 *
 * @example
 * ```ts
 * import { ClientTokens } from "./client_tokens.ts";
 * const tokens = new ClientTokens({ secret: "shared", mode: "signed" });
 * const token = tokens.issue();
 * tokens.accepts(token); // true
 * tokens.accepts("tab1"); // false: not one sse-hub made
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** What a well-formed token looks like (it becomes part of a channel name). */
const TOKEN_SHAPE = /^[A-Za-z0-9._~-]{1,64}$/;
/** Bytes of the signature kept in a token (128 bits). */
const MAC_BYTES = 16;

/** Options for {@linkcode ClientTokens}. */
export interface ClientTokensOptions {
  /** The signing secret; empty makes a random one for this process. */
  readonly secret: string;
  /** `signed` (the default) or `free` (any well-formed name; unsafe). */
  readonly mode: "signed" | "free";
}

/** Issues and checks client tokens. */
export class ClientTokens {
  readonly #key: Buffer;
  readonly #free: boolean;

  constructor(options: ClientTokensOptions) {
    this.#key = options.secret === "" ? randomBytes(32) : Buffer.from(options.secret);
    this.#free = options.mode === "free";
  }

  /** A new token: 96 random bits and their signature, `<id>.<mac>` in base64url. */
  issue(): string {
    const id = randomBytes(12).toString("base64url");
    return `${id}.${this.#mac(id).toString("base64url")}`;
  }

  /** Whether `token` is well formed and (unless tokens are free) signed with this secret. */
  accepts(token: string): boolean {
    if (!TOKEN_SHAPE.test(token)) return false;
    if (this.#free) return true;
    const dot = token.indexOf(".");
    if (dot <= 0) return false;
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const expected = this.#mac(token.slice(0, dot));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Whether `token` is at least shaped like a token. */
  static wellFormed(token: string): boolean {
    return TOKEN_SHAPE.test(token);
  }

  #mac(id: string): Buffer {
    return createHmac("sha256", this.#key).update(id).digest().subarray(0, MAC_BYTES);
  }
}
