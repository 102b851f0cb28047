/**
 * Reading request bodies without trusting their size or type.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import {
  BadRequestError,
  PayloadTooLargeError,
  RequestTimeoutError,
  UnsupportedMediaTypeError,
} from "./errors.ts";

/** A parsed body: JSON value or form fields. */
export type ParsedBody =
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "form"; readonly fields: URLSearchParams | FormData };

/** Content types {@linkcode readBody} understands. */
export const BODY_TYPES = [
  "application/json",
  "application/x-www-form-urlencoded",
  "multipart/form-data",
] as const;

/** What a request body may be: how large, and how long it may take to arrive. */
export interface BodyLimits {
  /** Most bytes; more get 413. */
  readonly maxBytes: number;
  /** Milliseconds from when reading starts until the body has all arrived; later gets 408. */
  readonly timeoutMs: number;
}

/**
 * Reads at most `maxBytes` of the body, answering 413 past it (from
 * `Content-Length` when given, else while reading), and 408 when it has not
 * all arrived within `timeoutMs` (a slow or unterminated body). On a timeout
 * the body is let go, not cancelled, so that nothing tears the connection
 * down before the 408 is written; the 408 says `Connection: close`, and
 * `node:http` closes it after the answer. (Deno.serve cannot: while a read of
 * the body is pending it keeps the connection until the client closes it;
 * see docs/operations.md.)
 */
export async function readBytes(
  request: Request,
  { maxBytes, timeoutMs }: BodyLimits,
): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () =>
    new PayloadTooLargeError(
      `request body is over ${maxBytes} bytes; send a smaller message or raise --max-message-size`,
    );
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = request.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new RequestTimeoutError(
          `request body did not all arrive within ${timeoutMs / 1000} s (--body-timeout); ` +
            "send the whole body at once, or raise --body-timeout",
        ),
      );
      // After the rejection, so that it wins the race against the pending
      // read, which letting go rejects.
      reader.releaseLock();
    }, timeoutMs);
  });
  late.catch(() => {}); // raced below; not unhandled while a 413 cancels the body
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0];
  return concat(chunks);
}

/** Throws on malformed UTF-8 instead of putting U+FFFD in its place. */
const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The body as text; 400 when it is not UTF-8 (`what`: what the body holds, for the message). */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BadRequestError(`request body is not valid UTF-8; send the ${what} as UTF-8 text`);
  }
}

/**
 * Percent-decodes one urlencoded name or value as the URL standard does (`+`
 * is a space, a `%` not followed by two hex digits stays), but refuses bytes
 * that are not UTF-8 where `URLSearchParams` would put U+FFFD.
 */
function formDecode(raw: string, field: () => string): string {
  const text = raw.replaceAll("+", " ");
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    // Malformed escapes (`100%`) or escapes that are not UTF-8: decode by hand.
  }
  const input = encoder.encode(text);
  const out = new Uint8Array(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const hex = input[i] === 0x25 ? String.fromCharCode(input[i + 1], input[i + 2]) : "";
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = input[i];
    }
  }
  try {
    return decoder.decode(out.subarray(0, n));
  } catch {
    const shown = raw.length > 60 ? `${raw.slice(0, 60)}…` : raw;
    throw new BadRequestError(
      `${field()} is not valid UTF-8 once percent-decoded (${shown}); ` +
        "percent-encode text as UTF-8 bytes, e.g. %C3%A9 for é",
    );
  }
}

/** Parses an urlencoded body like `URLSearchParams`, refusing escapes that are not UTF-8. */
function parseForm(text: string): URLSearchParams {
  const fields = new URLSearchParams();
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const rawName = at < 0 ? pair : pair.slice(0, at);
    const name = formDecode(rawName, () => "a form field name");
    const value = at < 0
      ? ""
      : formDecode(pair.slice(at + 1), () => `form field ${JSON.stringify(name)}`);
    fields.append(name, value);
  }
  return fields;
}

/**
 * Reads and parses a JSON, urlencoded or multipart body within `limits`
 * (413, 408). Other content types get 415, malformed bodies 400.
 */
export async function readBody(
  request: Request,
  limits: BodyLimits,
): Promise<ParsedBody> {
  const contentType = request.headers.get("content-type") ?? "";
  const mediaType = contentType.split(";")[0].trim().toLowerCase();
  const isJson = mediaType === "application/json" ||
    mediaType.endsWith("+json");
  if (
    !isJson && mediaType !== "application/x-www-form-urlencoded" &&
    mediaType !== "multipart/form-data"
  ) {
    throw new UnsupportedMediaTypeError(
      `content type ${JSON.stringify(contentType || "(none)")} is not supported; send ${
        BODY_TYPES.join(", ")
      }`,
    );
  }
  const bytes = await readBytes(request, limits);
  if (isJson) {
    try {
      return { kind: "json", value: JSON.parse(decodeUtf8(bytes, "JSON")) };
    } catch (error) {
      if (error instanceof BadRequestError) throw error;
      throw new BadRequestError(
        `request body is not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  if (mediaType === "application/x-www-form-urlencoded") {
    return { kind: "form", fields: parseForm(decodeUtf8(bytes, "form")) };
  }
  let form: FormData;
  try {
    form = await new Response(bytes, {
      headers: { "content-type": contentType },
    }).formData();
  } catch (error) {
    throw new BadRequestError(
      `multipart body could not be parsed: ${(error as Error).message}`,
    );
  }
  checkMultipartText(form, bytes);
  return { kind: "form", fields: form };
}

/**
 * `formData()` decodes text parts leniently, putting U+FFFD for bytes that
 * are not UTF-8. A text value with U+FFFD whose UTF-8 encoding is nowhere in
 * the body did not arrive as sent: 400 naming the field.
 */
function checkMultipartText(form: FormData, bytes: Uint8Array): void {
  let body: string | undefined;
  for (const [name, value] of form) {
    if (typeof value !== "string" || !value.includes("\uFFFD")) continue;
    body ??= latin1(bytes);
    if (!body.includes(latin1(encoder.encode(value)))) {
      throw new BadRequestError(
        `multipart field ${JSON.stringify(name)} is not valid UTF-8; send text parts as UTF-8`,
      );
    }
  }
}

/** One character per byte, so byte sequences can be searched as strings. */
function latin1(bytes: Uint8Array): string {
  return new TextDecoder("latin1").decode(bytes);
}
