/**
 * How a route asks for an SSE stream without knowing the transport.
 *
 * The subscribe route answers with a bodiless `Response` that carries a
 * {@linkcode StreamIntent}. Each transport realizes it: the Deno.serve one as
 * a `ReadableStream` body, the lean one by writing to its socket. So there is
 * one set of `(Request) => Response` handlers for every transport.
 *
 * @module
 */

import type { Subscriber } from "../subscriber.ts";

/** What a stream needs from its transport. */
export interface StreamIntent {
  /** Connection id. */
  readonly id: string;
  /** Channels the stream listens to. */
  readonly channels: readonly string[];
  /** The client's address, for per-address connection limits. */
  readonly remote?: string;
  /** Attached by an embedding app; handed to per-subscriber publishes. */
  readonly properties?: unknown;
  /** First bytes of the stream (`retry:` and a comment). */
  readonly preamble: Uint8Array;
  /** Bytes the transport may queue for this client before cutting it off. */
  readonly maxBuffered: number;
  /** Hands the transport's subscriber to the hub (replay, then live). */
  attach(subscriber: Subscriber): void;
}

const intents = new WeakMap<Response, StreamIntent>();

/** A response that a transport turns into an SSE stream. */
export function streamResponse(
  intent: StreamIntent,
  headers: Headers,
): Response {
  const response = new Response(null, { status: 200, headers });
  intents.set(response, intent);
  return response;
}

/** The stream intent of a response, if it has one. */
export function streamIntentOf(response: Response): StreamIntent | undefined {
  return intents.get(response);
}
