/**
 * The event that flows from a broker through the hub to subscribers, with its
 * wire bytes computed once when it is created.
 *
 * @module
 */

import { encodeEvent, encodeEventBody } from "./encode.ts";

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
  /**
   * The SSE block, encoded once, shared by every subscriber. For an event
   * with a {@linkcode HubEvent.channel}, the block without its `id:` line
   * and final blank line: the hub ends it with each connection's cursor.
   */
  readonly bytes: Uint8Array;
  /**
   * Set by brokers that order events per channel (Redis Cluster): the one
   * channel this copy of the event travels on; `id` is its position there
   * (see src/cursor.ts).
   */
  readonly channel?: string;
}

/** Builds a {@linkcode HubEvent}, encoding its bytes once. */
export function createEvent(
  message: Message,
  id: string | undefined,
  publishedAt: number = Date.now(),
): HubEvent {
  const { event, data, retry } = message;
  return withBytes(message, id, publishedAt, encodeEvent({ id, event, retry, data }));
}

/**
 * Builds the copy of an event that travels on `channel` at `position`, for
 * brokers that order events per channel: its bytes leave out the id line,
 * which the hub adds per set of channels (see src/cursor.ts).
 */
export function createChannelEvent(
  message: Message,
  channel: string,
  position: string,
  publishedAt: number,
): HubEvent {
  const { event, data, retry } = message;
  const bytes = encodeEventBody({ event, retry, data });
  return { ...withBytes(message, position, publishedAt, bytes), channel };
}

function withBytes(
  { channels, event, data, retry }: Message,
  id: string | undefined,
  publishedAt: number,
  bytes: Uint8Array,
): HubEvent {
  return {
    id,
    channels,
    event,
    data,
    ...(retry === undefined ? {} : { retry }),
    publishedAt,
    bytes,
  };
}
