/**
 * Reading request bodies without trusting their size or type.
 *
 * @module
 */

import { concat } from "@std/bytes/concat";
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from "./errors.ts";

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

/**
 * Reads at most `limit` bytes of the body, answering 413 past it (from
 * `Content-Length` when given, else while reading).
 */
export async function readBytes(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () =>
    new PayloadTooLargeError(
      `request body is over ${limit} bytes; send a smaller message or raise --max-message-size`,
    );
  const declared = Number(request.headers.get("content-length"));
  if (declared > limit) throw tooLarge();
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  return concat(chunks) as Uint8Array<ArrayBuffer>;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new BadRequestError("request body is not valid UTF-8");
  }
}

/**
 * Reads and parses a JSON, urlencoded or multipart body of at most `limit`
 * bytes. Other content types get 415, malformed bodies 400.
 */
export async function readBody(
  request: Request,
  limit: number,
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
  const bytes = await readBytes(request, limit);
  if (isJson) {
    try {
      return { kind: "json", value: JSON.parse(decodeUtf8(bytes)) };
    } catch (error) {
      if (error instanceof BadRequestError) throw error;
      throw new BadRequestError(
        `request body is not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  if (mediaType === "application/x-www-form-urlencoded") {
    return { kind: "form", fields: new URLSearchParams(decodeUtf8(bytes)) };
  }
  try {
    const form = await new Response(bytes, {
      headers: { "content-type": contentType },
    }).formData();
    return { kind: "form", fields: form };
  } catch (error) {
    throw new BadRequestError(
      `multipart body could not be parsed: ${(error as Error).message}`,
    );
  }
}
