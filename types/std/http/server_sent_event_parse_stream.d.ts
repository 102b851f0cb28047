// Declarations for `@std/http/server-sent-event-parse-stream` as shipped by the
// npm package deno-std@1.4.0 (http/server_sent_event_parse_stream.js), which
// has no types of its own.

/**
 * One event read from a stream; each field is present only when the event had
 * it. A type, not an interface, as in std: it is assignable to
 * `Record<string, unknown>`.
 */
export type ServerSentEventParsedMessage = {
  /** Comment lines (`: …`), joined by newlines. */
  comment?: string;
  /** The `event:` field. */
  event?: string;
  /** The `data:` lines, joined by newlines. */
  data?: string;
  /** The `id:` field, as sent. */
  id?: string;
  /** The `retry:` field, in milliseconds. */
  retry?: number;
};

/** Options of {@linkcode ServerSentEventParseStream}. */
export interface ServerSentEventParseStreamOptions {
  /** Leave comment lines out of the messages. */
  ignoreComments?: boolean;
}

/** Turns the bytes of an event stream into its events. */
export class ServerSentEventParseStream
  extends TransformStream<Uint8Array, ServerSentEventParsedMessage> {
  constructor(options?: ServerSentEventParseStreamOptions);
}
