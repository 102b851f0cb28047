/**
 * Private channels: channels matching `--private` patterns need a JWT whose
 * claims grant them. Public channels need nothing.
 *
 * - Keys: `--jwt-secret` (HS256) and/or `--jwt-public-key FILE` (PEM, RS256
 *   or ES256).
 * - The token comes from `Authorization: Bearer`, the `--auth-cookie` cookie
 *   (same-site pages), or `?token=` (EventSource cannot send headers).
 * - Grants: the `channels` claim, a list of channel patterns (`user.*`,
 *   `private.team1`), and `user.<sub>` for the token's subject (none
 *   without a `sub`).
 * - `--jwt-audience` / `--jwt-issuer`, when set, must match `aud` / `iss`.
 *   A token without `exp` never expires (as with Mercure and Centrifugo).
 * - Missing, expired or invalid token: 401 with the reason. Valid token that
 *   does not grant a requested private channel: 403.
 *
 * @module
 */

import { getCookies } from "@std/http/cookie";
import { errors, importSPKI, type JWTPayload, jwtVerify } from "jose";
import { type ChannelPattern, compilePattern, matchesAny } from "../channel_patterns.ts";
import type { Config } from "../config/options.ts";
import { ConfigError } from "../errors.ts";
import { ForbiddenError, UnauthorizedError } from "./errors.ts";

/** What a verified token allows. */
export interface Grant {
  readonly subject?: string;
  readonly patterns: readonly ChannelPattern[];
}

type KeyResolver = Parameters<typeof jwtVerify>[1];

/** The claims a token must carry besides a valid signature; unset ones are not checked. */
interface Expected {
  readonly audience?: string;
  readonly issuer?: string;
}

/** Checks subscribers' tokens against `--private` channels. */
export class SubscriberAuth {
  readonly #private: readonly ChannelPattern[];
  readonly #key: KeyResolver;
  readonly #algorithms: string[];
  readonly #cookie: string;
  readonly #expected: Expected;

  private constructor(
    privatePatterns: readonly string[],
    key: KeyResolver,
    algorithms: string[],
    cookie: string,
    expected: Expected,
  ) {
    this.#private = privatePatterns.map(compilePattern);
    this.#key = key;
    this.#algorithms = algorithms;
    this.#cookie = cookie;
    this.#expected = expected;
  }

  /**
   * The checker for `config`, or undefined when no JWT key is configured.
   * Reads the public key file now, so a bad file stops the start.
   */
  static fromConfig(
    config: Config,
    readTextFile: (path: string) => string = Deno.readTextFileSync,
  ): SubscriberAuth | undefined {
    if (!config.jwtSecret && !config.jwtPublicKey) return undefined;
    const secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : undefined;
    let pem: string | undefined;
    if (config.jwtPublicKey) {
      try {
        pem = readTextFile(config.jwtPublicKey);
      } catch (error) {
        throw new ConfigError(
          `cannot read --jwt-public-key ${config.jwtPublicKey}: ${(error as Error).message}`,
        );
      }
      if (!pem.includes("-----BEGIN PUBLIC KEY-----")) {
        throw new ConfigError(
          `--jwt-public-key ${config.jwtPublicKey} is not a PEM public key (-----BEGIN PUBLIC KEY-----)`,
        );
      }
    }
    const imported = new Map<string, Promise<CryptoKey>>();
    const algorithms = [...(secret ? ["HS256"] : []), ...(pem ? ["RS256", "ES256"] : [])];
    const key: KeyResolver = (header: { alg?: string }) => {
      const alg = header.alg ?? "";
      if (alg === "HS256" && secret) return secret;
      if (pem && (alg === "RS256" || alg === "ES256")) {
        if (!imported.has(alg)) imported.set(alg, importSPKI(pem, alg));
        return imported.get(alg)!;
      }
      throw new UnauthorizedError(`token algorithm ${alg || "(none)"} is not accepted here`);
    };
    return new SubscriberAuth(config.private, key, algorithms, config.authCookie, {
      audience: config.jwtAudience || undefined,
      issuer: config.jwtIssuer || undefined,
    });
  }

  /** Throws 401/403 unless the request may subscribe to every private channel it asks for. */
  async authorize(request: Request, url: URL, channels: readonly string[]): Promise<void> {
    const needed = channels.filter((channel) => matchesAny(this.#private, channel));
    if (needed.length === 0) return;
    const token = this.#token(request, url);
    if (!token) {
      throw new UnauthorizedError(
        `channel ${
          JSON.stringify(needed[0])
        } is private: send a token as Authorization: Bearer, ?token=${
          this.#cookie ? ` or the ${this.#cookie} cookie` : ""
        }`,
      );
    }
    const grant = await this.verify(token);
    const own = grant.subject === undefined ? undefined : `user.${grant.subject}`;
    const denied = needed.find((channel) =>
      !matchesAny(grant.patterns, channel) && channel !== own
    );
    if (denied !== undefined) {
      throw new ForbiddenError(`the token does not grant channel ${JSON.stringify(denied)}`);
    }
  }

  /**
   * Throws 401/403 unless `token` is a valid JWT whose `publish` claim
   * (channel patterns) grants every one of `channels`.
   */
  async authorizePublish(token: string, channels: readonly string[]): Promise<void> {
    const { publish } = await this.#claims(token);
    const grants = Array.isArray(publish)
      ? publish.filter((p): p is string => typeof p === "string").map(compilePattern)
      : [];
    const denied = channels.find((channel) => !matchesAny(grants, channel));
    if (denied !== undefined) {
      throw new ForbiddenError(`the token does not grant publishing to ${JSON.stringify(denied)}`);
    }
  }

  /** Verifies a token and returns what it grants; 401 with the reason otherwise. */
  async verify(token: string): Promise<Grant> {
    const payload = await this.#claims(token);
    const claim = payload.channels;
    const patterns = Array.isArray(claim)
      ? claim.filter((p): p is string => typeof p === "string").map(compilePattern)
      : [];
    // No subject, no user channel: `user.${undefined}` must not become a grant.
    const subject = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : undefined;
    return { subject, patterns };
  }

  async #claims(token: string): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, this.#key, {
        algorithms: this.#algorithms,
        audience: this.#expected.audience,
        issuer: this.#expected.issuer,
      })).payload;
    } catch (error) {
      throw new UnauthorizedError(`token rejected: ${reason(error, this.#expected)}`);
    }
  }

  #token(request: Request, url: URL): string | undefined {
    const bearer = request.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
    if (bearer) return bearer.trim();
    if (this.#cookie) {
      const cookie = (getCookies(request.headers) as Record<string, string>)[this.#cookie];
      if (cookie) return cookie;
    }
    return url.searchParams.get("token") ?? undefined;
  }
}

/** The option that sets each checked claim, and its expected value. */
const CHECKED_CLAIMS = {
  aud: ["--jwt-audience", "audience"],
  iss: ["--jwt-issuer", "issuer"],
} as const;

/** Why jose rejected a token, in words a client can act on. */
function reason(error: unknown, expected: Expected): string {
  if (error instanceof UnauthorizedError) return error.message;
  if (error instanceof errors.JWTExpired) return "it has expired";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "its signature is invalid";
  if (error instanceof errors.JWTClaimValidationFailed) {
    const checked = CHECKED_CLAIMS[error.claim as keyof typeof CHECKED_CLAIMS];
    if (checked) {
      const [flag, field] = checked;
      const want = JSON.stringify(expected[field]);
      const got = error.payload[error.claim];
      return got === undefined
        ? `it has no ${error.claim} claim; ${flag} requires ${want}`
        : `its ${error.claim} claim ${JSON.stringify(got)} does not match ${flag} ${want}`;
    }
    return `claim ${error.claim}: ${error.reason}`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "its algorithm is not accepted";
  return `it is malformed (${(error as Error).message})`;
}
