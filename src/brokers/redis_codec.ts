/**
 * How events look in Redis: the envelope published on an events channel
 * (`id[ retry] \n channels-json \n event \n data`) and the fields of a
 * history stream entry (`c`, `e`, `d`, `r`), and reading `XINFO STREAM` for
 * what a trimmed stream lost.
 *
 * @module
 */

import { createChannelEvent, createEvent, type HubEvent, type Message } from "../event.ts";
import { compareIds, parseId } from "../ids.ts";

/** A stream entry as XRANGE returns it. */
export type StreamEntry = [id: string, fields: string[]];

/** Lists of events in id order → one list in id order, each id once. */
export function mergeById(lists: readonly HubEvent[][]): HubEvent[] {
  const all = lists.length === 1 ? [...lists[0]] : lists.flat();
  if (lists.length > 1) all.sort((a, b) => compareIds(a.id!, b.id!));
  return all.filter((event, i) => i === 0 || event.id !== all[i - 1].id);
}

/** `id[ retry] \n channels-json \n event \n data` → event; null if malformed. */
export function parseEnvelope(envelope: string): HubEvent | null {
  const parts = splitEnvelope(envelope);
  if (!parts) return null;
  const [id, retry] = parts.head;
  const parsed = parseId(id);
  if (!parsed) return null;
  return createEvent({ ...parts.message, retry: toRetry(retry) }, id, parsed.ms);
}

/**
 * A Redis Cluster envelope, `position prev[ retry] \n channels-json \n
 * event \n data`, → the copy of the event on `channel`, and the position
 * before it; null if malformed.
 */
export function parseChannelEnvelope(
  envelope: string,
  channel: string,
): { copy: HubEvent; prev: string } | null {
  const parts = splitEnvelope(envelope);
  if (!parts) return null;
  const [position, prev, retry] = parts.head;
  const parsed = parseId(position);
  if (!parsed || prev === undefined || !parseId(prev)) return null;
  const message = { ...parts.message, retry: toRetry(retry) };
  return { copy: createChannelEvent(message, channel, position, parsed.ms), prev };
}

function splitEnvelope(
  envelope: string,
): { head: string[]; message: { channels: string[]; event?: string; data: string } } | null {
  const a = envelope.indexOf("\n");
  const b = envelope.indexOf("\n", a + 1);
  const c = envelope.indexOf("\n", b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  let channels: unknown;
  try {
    channels = JSON.parse(envelope.slice(a + 1, b));
  } catch {
    return null;
  }
  if (!Array.isArray(channels)) return null;
  const event = envelope.slice(b + 1, c) || undefined;
  return {
    head: envelope.slice(0, a).split(" "),
    message: { channels, event, data: envelope.slice(c + 1) },
  };
}

/** A stream entry (fields c, e, d, and r when the event has a retry) → event. */
export function toEvent(entry: StreamEntry): HubEvent {
  return createEvent(entryMessage(entry), entry[0], parseId(entry[0])?.ms);
}

/** A cluster stream entry → the copy of its event on `channel` (see {@linkcode parseChannelEnvelope}). */
export function toChannelEvent(entry: StreamEntry, channel: string): HubEvent {
  const [position] = entry;
  return createChannelEvent(entryMessage(entry), channel, position, parseId(position)?.ms ?? 0);
}

function entryMessage([, fields]: StreamEntry): Message {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]] = fields[i + 1];
  return {
    channels: JSON.parse(values.c ?? "[]"),
    event: values.e || undefined,
    data: values.d ?? "",
    retry: toRetry(values.r),
  };
}

/** A stored retry (whole milliseconds), or undefined when absent or malformed. */
function toRetry(text: string | undefined): number | undefined {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/**
 * Whether entries newer than `lastEventId` were removed from a stream.
 * Trimming removes from the head, so that is the case when the stream was
 * trimmed (`entries-added` > `length`) and the id is older than the first
 * entry kept, or when `XDEL` removed an entry newer than the id.
 */
export function wasEvicted(info: unknown[], lastEventId: string): boolean {
  const older = (id: string | undefined) =>
    id !== undefined && parseId(id) !== null && compareIds(lastEventId, id) < 0;
  const trimmed = Number(field(info, "entries-added")) > Number(field(info, "length"));
  return (trimmed && older(field(info, "recorded-first-entry-id"))) ||
    older(field(info, "max-deleted-entry-id"));
}

/** A field of a Redis `XINFO STREAM` reply (a flat key, value list). */
function field(info: unknown[], name: string): string | undefined {
  const at = info.indexOf(name);
  return at >= 0 ? String(info[at + 1]) : undefined;
}
