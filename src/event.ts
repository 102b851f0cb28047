/**
 * The event that flows from a broker through the hub to subscribers, with its
 * wire bytes computed once when it is created.
 *
 * @module
 */

import { encodeEvent } from "./encode.ts";

/** What a publisher asks for: where to, what type, what payload. */
export interface Message {
  /** Target channels, at least one, already validated. */
  readonly channels: readonly string[];
  /** Optional event type. */
  readonly event?: string;
  /** Payload text. */
  readonly data: string;
  /** Reconnection delay in milliseconds to tell clients with this event (a `retry:` line). */
  readonly retry?: number;
}

/** A published message with its id, its publish time and its encoded bytes. */
export interface HubEvent extends Message {
  /** Event id; absent for raw broker messages that were never stored. */
  readonly id?: string;
  /** Milliseconds since the epoch when the event was published. */
  readonly publishedAt: number;
  /** The SSE block, encoded once, shared by every subscriber. */
  readonly bytes: Uint8Array;
}

/** Builds a {@linkcode HubEvent}, encoding its bytes once. */
export function createEvent(
  message: Message,
  id: string | undefined,
  publishedAt: number = Date.now(),
): HubEvent {
  const { channels, event, data, retry } = message;
  return {
    id,
    channels,
    event,
    data,
    ...(retry === undefined ? {} : { retry }),
    publishedAt,
    bytes: encodeEvent({ id, event, retry, data }),
  };
}
