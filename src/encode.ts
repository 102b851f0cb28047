/**
 * SSE framing per the WHATWG HTML spec ("Server-sent events", event stream
 * interpretation). Each event is encoded exactly once, to bytes that are then
 * written unchanged to every subscriber.
 *
 * @example
 * ```ts
 * import { encodeEvent } from "./encode.ts";
 * const bytes = encodeEvent({ id: "1-0", event: "news", data: "a\nb" });
 * new TextDecoder().decode(bytes); // "id: 1-0\nevent: news\ndata: a\ndata: b\n\n"
 * const again = encodeEvent({ id: "1-1", retry: 5000, data: "x" });
 * new TextDecoder().decode(again); // "id: 1-1\nretry: 5000\ndata: x\n\n"
 * ```
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

const encoder = new TextEncoder();
const LINE_BREAK = /\r\n|\r|\n/;
const HAS_LINE_BREAK = /[\r\n]/;

/** The fields of one SSE event as written on the wire. */
export interface EventFields {
  /** Omitted for events that have no replayable id (raw broker messages). */
  readonly id?: string;
  /** Event type; omitted means the browser's default `message`. */
  readonly event?: string;
  /** Reconnection delay in milliseconds (a whole number); omitted means no `retry:` line. */
  readonly retry?: number;
  /** Payload; CR, LF and CRLF split it into several `data:` lines. */
  readonly data: string;
}

/**
 * Throws {@linkcode ProtocolError} when a single-line field (`event`, `id`)
 * holds a line break, which would split or forge an event on the wire.
 */
export function assertSingleLine(name: string, value: string): void {
  if (HAS_LINE_BREAK.test(value)) {
    throw new ProtocolError(
      `${name} must be a single line; remove the CR/LF characters from ${
        JSON.stringify(value.slice(0, 60))
      }`,
    );
  }
}

/** Encodes one event to the bytes of an SSE block, ending with a blank line. */
export function encodeEvent(fields: EventFields): Uint8Array {
  let text = "";
  if (fields.id !== undefined) {
    assertSingleLine("id", fields.id);
    text += `id: ${fields.id}\n`;
  }
  return encoder.encode(text + bodyText(fields) + "\n");
}

/**
 * Encodes an event's lines but its id, without the blank line that ends the
 * block: the caller appends an `id:` line and the blank line (see
 * {@linkcode encodeIdEnd}).
 */
export function encodeEventBody(fields: Omit<EventFields, "id">): Uint8Array {
  return encoder.encode(bodyText(fields));
}

/** The `id:` line and blank line that end a block begun by {@linkcode encodeEventBody}. */
export function encodeIdEnd(body: Uint8Array, id: string): Uint8Array {
  assertSingleLine("id", id);
  const end = encoder.encode(`id: ${id}\n\n`);
  const bytes = new Uint8Array(body.length + end.length);
  bytes.set(body);
  bytes.set(end, body.length);
  return bytes;
}

function bodyText(fields: Omit<EventFields, "id">): string {
  let text = "";
  if (fields.event !== undefined) {
    assertSingleLine("event", fields.event);
    text += `event: ${fields.event}\n`;
  }
  if (fields.retry !== undefined) text += `retry: ${Math.trunc(fields.retry)}\n`;
  for (const line of fields.data.split(LINE_BREAK)) text += `data: ${line}\n`;
  return text;
}

/** Encodes a comment block (ignored by clients; keeps proxies from timing out). */
export function encodeComment(comment: string): Uint8Array {
  let text = "";
  for (const line of comment.split(LINE_BREAK)) text += `: ${line}\n`;
  return encoder.encode(text + "\n");
}

/**
 * Encodes the bytes that open every stream: the reconnection delay the client
 * should use, and a comment so that proxies and browsers see a first chunk.
 */
export function encodePreamble(retryMs: number, comment: string): Uint8Array {
  return encoder.encode(`retry: ${Math.trunc(retryMs)}\n: ${comment}\n\n`);
}
