/**
 * `POST /publish`: cyclone-sse's form body (`channel` repeatable, `message`,
 * `key`; other fields are ignored) or JSON (`{"channel": "a" | ["a","b"],
 * "data": …, "event"?: "…", "retry"?: ms}`; any other field is a 400).
 *
 * @module
 */

import { checkPublishKey, looksLikeJwt, offeredKey, timingSafeEqual } from "./auth.ts";
import { validateChannel } from "../channels.ts";
import type { Config } from "../config/options.ts";
import { assertSingleLine } from "../encode.ts";
import type { RateLimiter } from "../rate_limit.ts";
import {
  BadRequestError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
} from "./errors.ts";
import type { Message } from "../event.ts";
import { type ParsedBody, readBody } from "./body.ts";
import type { RouteContext } from "./context.ts";
import { json } from "./respond.ts";

/** Longest accepted event type. */
const MAX_EVENT_LENGTH = 200;
/** Room in the body for field names, channels and form/JSON escaping. */
const BODY_OVERHEAD = 16 * 1024;
/** Worst-case growth of a message once escaped (JSON `\uXXXX`). */
const ESCAPE_FACTOR = 6;
/** Largest `retry` accepted, in milliseconds (as `--retry`). */
const MAX_RETRY_MS = 86_400_000;
/** The fields a JSON publish may have. */
const JSON_FIELDS = new Set(["channel", "channels", "data", "message", "event", "retry", "key"]);

/** The fields of a publish request before validation. */
export interface PublishFields {
  readonly channels: readonly string[];
  readonly data: string | undefined;
  readonly event: string | undefined;
  readonly key: string | undefined;
  /** Reconnection delay in milliseconds to send with the event (JSON only). */
  readonly retry?: number;
}

function textField(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") {
    throw new BadRequestError(`"${name}" must be a string`);
  }
  return value;
}

/**
 * Throws 400 for a JSON field sse-hub does not know (a typo such as `evnt`
 * would otherwise be dropped silently), and for `id`: ids are assigned by
 * sse-hub, in order, so that `Last-Event-ID` replay works.
 */
function checkJsonFields(o: Record<string, unknown>): void {
  for (const name of Object.keys(o)) {
    if (JSON_FIELDS.has(name)) continue;
    if (name === "id") {
      throw new BadRequestError(
        '"id" cannot be set: sse-hub assigns every event its id so that Last-Event-ID replay works; remove the field',
      );
    }
    throw new BadRequestError(
      `unknown field ${JSON.stringify(name.slice(0, 60))}; the fields are ${
        [...JSON_FIELDS].join(", ")
      }`,
    );
  }
}

/** A JSON `retry`: whole milliseconds, 0 to a day. */
function retryField(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_RETRY_MS) {
    throw new BadRequestError(
      `"retry" must be a whole number of milliseconds from 0 to ${MAX_RETRY_MS}, got ${
        JSON.stringify(value)?.slice(0, 60)
      }`,
    );
  }
  return value;
}

/** Extracts publish fields from a JSON or form body. */
export function publishFields(body: ParsedBody): PublishFields {
  if (body.kind === "form") {
    const f = body.fields;
    const all = (name: string) => f.getAll(name).map((v) => typeof v === "string" ? v : undefined);
    const one = (name: string) => {
      const v = f.get(name);
      if (v !== null && typeof v !== "string") {
        throw new BadRequestError(
          `form field "${name}" must be text, not a file`,
        );
      }
      return v ?? undefined;
    };
    const channels = [...all("channel"), ...all("channels")];
    if (channels.includes(undefined)) {
      throw new BadRequestError(
        'form field "channel" must be text, not a file',
      );
    }
    return {
      channels: channels as string[],
      data: one("message") ?? one("data"),
      event: one("event"),
      key: one("key"),
    };
  }
  const value = body.value;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequestError(
      'JSON body must be an object like {"channel": "news", "data": "hello"}',
    );
  }
  const o = value as Record<string, unknown>;
  checkJsonFields(o);
  const rawChannels = o.channel ?? o.channels;
  const list = Array.isArray(rawChannels) ? rawChannels : [rawChannels];
  const channels = list.filter((c) => c !== undefined).map((c) => {
    if (typeof c !== "string") {
      throw new BadRequestError(
        '"channel" must be a string or a list of strings',
      );
    }
    return c;
  });
  const rawData = o.data ?? o.message;
  return {
    channels,
    data: rawData === undefined || rawData === null
      ? undefined
      : typeof rawData === "string"
      ? rawData
      : JSON.stringify(rawData),
    event: textField(o.event, "event"),
    key: textField(o.key, "key"),
    retry: retryField(o.retry),
  };
}

/** Number of bytes `text` takes in UTF-8, without encoding it. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Validates publish fields into a {@linkcode Message}; 400/413 on bad input. */
export function toMessage(fields: PublishFields, config: Config): Message {
  if (fields.channels.length === 0) {
    throw new BadRequestError(
      'no channel given; add a "channel" field (repeat it, or use a JSON list, for several)',
    );
  }
  const channels = [
    ...new Set(fields.channels.map((c) => validateChannel(c.trim()))),
  ];
  if (channels.length > config.maxChannels) {
    throw new BadRequestError(
      `${channels.length} channels given; at most ${config.maxChannels} per publish (--max-channels)`,
    );
  }
  const data = fields.data;
  if (data === undefined || data === "") {
    throw new BadRequestError(
      'message is empty; send it in the "message" (form) or "data" (JSON) field',
    );
  }
  const size = utf8Length(data);
  if (size > config.maxMessageSize) {
    throw new PayloadTooLargeError(
      `message is ${size} bytes; the limit is ${config.maxMessageSize} (--max-message-size)`,
    );
  }
  let event = fields.event;
  if (event === "") event = undefined;
  if (event !== undefined) {
    assertSingleLine("event", event);
    if (event.length > MAX_EVENT_LENGTH) {
      throw new BadRequestError(
        `event type is ${event.length} characters long; the limit is ${MAX_EVENT_LENGTH}`,
      );
    }
  }
  return fields.retry === undefined
    ? { channels, event, data }
    : { channels, event, data, retry: fields.retry };
}

/** Takes a publish token for `key`, or throws 429 with `Retry-After` naming `--publish-rate`. */
export function enforceRate(rate: RateLimiter | undefined, key: string, perSecond: number): void {
  const wait = rate?.take(key) ?? 0;
  if (wait > 0) {
    throw new TooManyRequestsError(
      `over ${perSecond} publishes a second (--publish-rate); retry in ${wait.toFixed(2)} s`,
      Math.ceil(wait),
    );
  }
}

/** The publish route; `rate` limits publishes per valid key, else per client address. */
export async function publish(
  { request, config, hub, remote, rate, auth }: RouteContext,
): Promise<Response> {
  const limit = config.maxMessageSize * ESCAPE_FACTOR + BODY_OVERHEAD;
  const fields = publishFields(
    await readBody(request, { maxBytes: limit, timeoutMs: config.bodyTimeoutMs }),
  );
  const key = offeredKey(request, fields.key);
  // With a publish key set, a JWT may stand in for it; its grant is checked
  // against the validated channels below. Anything else must be the key.
  const token = config.publishKey !== "" && auth && key && looksLikeJwt(key) &&
      !timingSafeEqual(key, config.publishKey)
    ? key
    : undefined;
  // Only a proven credential (the configured key, a valid token) has a bucket
  // of its own: made-up keys are limited per client address, and wrong ones
  // cost the address a token too, so guessing keys hits 429.
  const byAddress = `ip:${remote}`;
  try {
    if (token === undefined) checkPublishKey(config.publishKey, key);
  } catch (error) {
    enforceRate(rate, byAddress, config.publishRate);
    throw error;
  }
  const message = toMessage(fields, config);
  if (token !== undefined) {
    await auth!.authorizePublish(token, message.channels).catch((error) => {
      if (error instanceof UnauthorizedError) enforceRate(rate, byAddress, config.publishRate);
      throw error;
    });
  }
  enforceRate(rate, config.publishKey === "" ? byAddress : `key:${key}`, config.publishRate);
  const result = await hub.publish(message);
  return json({
    status: "ok",
    id: result.id ?? null,
    delivered: result.delivered,
  });
}
