/**
 * The Redis broker: many sse-hub instances share one Redis.
 *
 * - History is a Redis stream (`<prefix>sse-hub:history`, trimmed to about
 *   `--history-size` entries); its entry ids are the SSE event ids, so a client
 *   can reconnect to any instance with its `Last-Event-ID`.
 * - Fan-out: one Lua script adds the event to the stream and publishes it on
 *   `<prefix>sse-hub:events` in a single atomic step, so every instance gets
 *   every event, in id order, exactly once.
 * - Raw messages published by anyone else on the Redis channel of an SSE
 *   channel (`redis-cli PUBLISH news 'hi'`, as with cyclone-sse) are delivered
 *   verbatim, live. They have no id and are not replayable: they never went
 *   through the stream.
 * - Redis down: publishing fails fast with 503; subscribers stay connected;
 *   ioredis reconnects and resubscribes by itself.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { Redis } from "ioredis";
import { isClientChannel } from "../channels.ts";
import { UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import type { Replay } from "../history.ts";
import { compareIds, parseId } from "../ids.ts";
import type { Broker, Deliver, PublishResult } from "./broker.ts";

const log = getLogger(["sse-hub", "redis"]);

/** How long a publish waits to see its own event come back to count local deliveries. */
const ECHO_TIMEOUT_MS = 2000;
/** How long one Redis command may take before it is failed. */
const COMMAND_TIMEOUT_MS = 3000;

// KEYS: history stream, events channel. ARGV: max length, min id ("" = no TTL),
// channels (JSON), event ("" = none), data.
const PUBLISH_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
  'c', ARGV[3], 'e', ARGV[4], 'd', ARGV[5])
if ARGV[2] ~= '' then redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[2]) end
redis.call('PUBLISH', KEYS[2], id .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[5])
return id
`;

/** Options for {@linkcode RedisBroker}. */
export interface RedisBrokerOptions {
  /** `redis://[user:pass@]host:port/db` or `rediss://…`. */
  readonly url: string;
  /** Prepended to every Redis key and channel sse-hub uses. */
  readonly prefix: string;
  /** Stream entries kept for replay (approximately: Redis trims whole nodes). */
  readonly historySize: number;
  /** Replay window in milliseconds; 0 means no time limit. */
  readonly historyTtlMs: number;
}

type StreamEntry = [id: string, fields: string[]];

/** Shares events and their history between instances through Redis. */
export class RedisBroker implements Broker {
  readonly kind = "redis";
  readonly #options: RedisBrokerOptions;
  readonly #historyKey: string;
  readonly #eventsChannel: string;
  readonly #commands: Redis;
  readonly #subscriber: Redis;
  #deliver: Deliver = () => 0;
  /** Publishes waiting for their own event to come back, by id. */
  readonly #waiting = new Map<string, (delivered: number) => void>();
  /** Local delivery counts of events that came back before their publish asked. */
  readonly #early = new Map<string, number>();

  constructor(options: RedisBrokerOptions) {
    this.#options = options;
    this.#historyKey = `${options.prefix}sse-hub:history`;
    this.#eventsChannel = `${options.prefix}sse-hub:events`;
    const common = {
      lazyConnect: true,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
      maxRetriesPerRequest: 0,
    };
    // Commands fail at once while disconnected (publish answers 503); the
    // subscriber queues its SUBSCRIBEs and replays them on reconnect.
    this.#commands = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      connectionName: "sse-hub",
    });
    this.#subscriber = new Redis(options.url, {
      ...common,
      enableOfflineQueue: true,
      autoResubscribe: true,
      connectionName: "sse-hub-subscriber",
    });
    this.#commands.defineCommand("sseHubPublish", { numberOfKeys: 2, lua: PUBLISH_SCRIPT });
    for (
      const [name, connection] of [["commands", this.#commands], [
        "subscriber",
        this.#subscriber,
      ]] as const
    ) {
      let down = false;
      connection.on("error", (error: Error) => {
        if (!down) log.warning("Redis {name} connection: {error}", { name, error: error.message });
        down = true;
      });
      connection.on("ready", () => {
        if (down) log.info("Redis {name} connection is back", { name });
        down = false;
      });
    }
  }

  /** True while both connections to Redis are up. */
  get ready(): boolean {
    return this.#commands.status === "ready" && this.#subscriber.status === "ready";
  }

  async start(deliver: Deliver): Promise<void> {
    this.#deliver = deliver;
    this.#subscriber.on("message", (channel: string, message: string) => {
      if (channel === this.#eventsChannel) this.#onEvent(message);
      else this.#onRaw(channel, message);
    });
    try {
      await Promise.all([this.#commands.connect(), this.#subscriber.connect()]);
      await this.#subscriber.subscribe(this.#eventsChannel);
    } catch (error) {
      this.#commands.disconnect();
      this.#subscriber.disconnect();
      throw new Error(
        `cannot connect to Redis at ${redactUrl(this.#options.url)}: ${
          (error as Error).message
        }; check --redis-url and that Redis is running`,
      );
    }
  }

  async publish(message: Message): Promise<PublishResult> {
    if (this.#commands.status !== "ready") {
      throw new UnavailableError(
        `Redis is unavailable (${this.#commands.status}); the message was not published, retry later`,
      );
    }
    const { historySize, historyTtlMs } = this.#options;
    let id: string;
    try {
      // deno-lint-ignore no-explicit-any
      id = await (this.#commands as any).sseHubPublish(
        this.#historyKey,
        this.#eventsChannel,
        historySize,
        historyTtlMs > 0 ? String(Date.now() - historyTtlMs) : "",
        JSON.stringify(message.channels),
        message.event ?? "",
        message.data,
      );
    } catch (error) {
      throw new UnavailableError(
        `Redis did not take the message: ${(error as Error).message}; retry later`,
      );
    }
    return { id, delivered: await this.#localDeliveries(id) };
  }

  async replay(channels: readonly string[], lastEventId: string): Promise<Replay> {
    const valid = parseId(lastEventId) !== null;
    const [[rangeError, entries], [infoError, info]] = (await this.#commands.multi()
      .xrange(this.#historyKey, valid ? `(${lastEventId}` : "-", "+")
      .call("XINFO", "STREAM", this.#historyKey)
      .exec()) as [[Error | null, StreamEntry[]], [Error | null, unknown[]]];
    if (rangeError) throw rangeError;
    const wanted = new Set(channels);
    const events = (entries ?? []).map(toEvent).filter((event) =>
      event.channels.some((c) => wanted.has(c))
    );
    if (!valid) return { events, gap: "invalid-id" };
    // A missing stream (nothing published yet) has nothing to miss.
    if (infoError || !info) return { events };
    return evicted(info, lastEventId) ? { events, gap: "evicted" } : { events };
  }

  async watch(channel: string): Promise<void> {
    const name = this.#options.prefix + channel;
    // Per-connection client: channels get sse-hub's own events through the
    // events channel; a SUBSCRIBE for each connection would only serve raw
    // PUBLISHes to them.
    if (name === this.#eventsChannel || isClientChannel(channel)) return;
    await this.#subscriber.subscribe(name).catch((error: Error) =>
      log.warning("cannot subscribe to Redis channel {name}: {error}", {
        name,
        error: error.message,
      })
    );
  }

  unwatch(channel: string): void {
    const name = this.#options.prefix + channel;
    if (name === this.#eventsChannel || isClientChannel(channel)) return;
    this.#subscriber.unsubscribe(name).catch(() => {});
  }

  async close(): Promise<void> {
    for (const resolve of this.#waiting.values()) resolve(0);
    this.#waiting.clear();
    this.#commands.disconnect();
    this.#subscriber.disconnect();
    await Promise.resolve();
  }

  #onEvent(envelope: string): void {
    const event = parseEnvelope(envelope);
    if (!event) {
      log.warning("ignored a malformed message on {channel}", { channel: this.#eventsChannel });
      return;
    }
    const delivered = this.#deliver(event);
    const waiting = this.#waiting.get(event.id!);
    if (waiting) waiting(delivered);
    else {
      this.#early.set(event.id!, delivered);
      if (this.#early.size > 1000) this.#early.delete(this.#early.keys().next().value!);
    }
  }

  #onRaw(channel: string, data: string): void {
    const name = channel.slice(this.#options.prefix.length);
    this.#deliver(createEvent({ channels: [name], data }, undefined));
  }

  /** Waits for the event to come back through pub/sub and returns its local deliveries. */
  #localDeliveries(id: string): Promise<number> {
    const early = this.#early.get(id);
    if (early !== undefined) {
      this.#early.delete(id);
      return Promise.resolve(early);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(0), ECHO_TIMEOUT_MS);
      const finish = (delivered: number) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(delivered);
      };
      this.#waiting.set(id, finish);
    });
  }
}

/** `id \n channels-json \n event \n data` → event; null if malformed. */
function parseEnvelope(envelope: string): HubEvent | null {
  const a = envelope.indexOf("\n");
  const b = envelope.indexOf("\n", a + 1);
  const c = envelope.indexOf("\n", b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  const id = envelope.slice(0, a);
  const parsed = parseId(id);
  let channels: unknown;
  try {
    channels = JSON.parse(envelope.slice(a + 1, b));
  } catch {
    return null;
  }
  if (!parsed || !Array.isArray(channels)) return null;
  const event = envelope.slice(b + 1, c) || undefined;
  return createEvent({ channels, event, data: envelope.slice(c + 1) }, id, parsed.ms);
}

/** A stream entry (fields c, e, d) → event. */
function toEvent([id, fields]: StreamEntry): HubEvent {
  const values: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) values[fields[i]] = fields[i + 1];
  return createEvent(
    { channels: JSON.parse(values.c ?? "[]"), event: values.e || undefined, data: values.d ?? "" },
    id,
    parseId(id)?.ms,
  );
}

/**
 * Whether entries newer than `lastEventId` were removed from the stream.
 * Trimming removes from the head, so that is the case when the stream was
 * trimmed (`entries-added` > `length`) and the id is older than the first
 * entry kept, or when `XDEL` removed an entry newer than the id.
 */
function evicted(info: unknown[], lastEventId: string): boolean {
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

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return url;
  }
}
