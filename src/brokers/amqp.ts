/**
 * The AMQP broker (RabbitMQ): instances share events through an exchange.
 *
 * - `POST /publish` publishes the data to the exchange (`--amqp-exchange`,
 *   type `--amqp-exchange-type`) with routing key = channel, through a
 *   confirm channel: a 200 means RabbitMQ has taken the message.
 * - Each instance consumes from its own exclusive, server-named queue, bound
 *   with the routing key of each channel it has local subscribers on (bound
 *   on the first, unbound after the last), so it only receives what it needs.
 * - A message published by any AMQP client with routing key `news` reaches
 *   the subscribers of `news`, its body verbatim as the data (cyclone-sse).
 * - RabbitMQ keeps no shared log, so each instance stamps the events it
 *   receives with its own ids and keeps its own replay history: replay is
 *   exact on the same instance; use the Redis broker for replay across
 *   instances (docs/scaling.md).
 * - RabbitMQ down: publish answers 503; the broker reconnects with backoff,
 *   re-declares, re-binds and resumes.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import amqp from "amqplib";
import { Buffer } from "node:buffer";
import { UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import { History, type Replay } from "../history.ts";
import { IdClock } from "../ids.ts";
import type { Broker, Deliver, PublishResult } from "./broker.ts";
import { redactUrl } from "./redis.ts";

const log = getLogger(["sse-hub", "amqp"]);

const PUBLISH_HEADER = "sse-hub-publish";
const CHANNELS_HEADER = "sse-hub-channels";
const ECHO_TIMEOUT_MS = 2000;
const MAX_BACKOFF_MS = 10_000;

/** The parts of amqplib's API this broker uses (it ships no types). */
interface AmqpMessage {
  content: Uint8Array;
  fields: { routingKey: string };
  properties: { headers?: Record<string, unknown>; type?: string };
}
interface AmqpChannel {
  assertExchange(name: string, type: string, options: object): Promise<unknown>;
  assertQueue(name: string, options: object): Promise<{ queue: string }>;
  bindQueue(queue: string, exchange: string, key: string): Promise<unknown>;
  unbindQueue(queue: string, exchange: string, key: string): Promise<unknown>;
  consume(
    queue: string,
    onMessage: (message: AmqpMessage | null) => void,
    options: object,
  ): Promise<unknown>;
  publish(exchange: string, key: string, content: Buffer, options: object): boolean;
  waitForConfirms(): Promise<void>;
}
interface AmqpConnection {
  createConfirmChannel(): Promise<AmqpChannel>;
  close(): Promise<void>;
  on(event: "close" | "error", listener: (error?: Error) => void): void;
}

/** Options for {@linkcode AmqpBroker}. */
export interface AmqpBrokerOptions {
  /** `amqp://user:pass@host:5672/vhost`. */
  readonly url: string;
  readonly exchange: string;
  readonly exchangeType: "direct" | "topic" | "fanout";
  readonly historySize: number;
  readonly historyTtlMs: number;
}

/** Shares events between instances through a RabbitMQ exchange. */
export class AmqpBroker implements Broker {
  readonly kind = "amqp";
  readonly #options: AmqpBrokerOptions;
  readonly #clock = new IdClock();
  readonly #history: History;
  /** Channels with local subscribers: the queue's bindings. */
  readonly #watched = new Set<string>();
  /** Publish tokens already delivered (one publish is one message per channel). */
  readonly #seen = new Set<string>();
  readonly #waiting = new Map<string, (result: PublishResult) => void>();
  #deliver: Deliver = () => 0;
  #connection: AmqpConnection | undefined;
  #channel: AmqpChannel | undefined;
  #queue = "";
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(options: AmqpBrokerOptions) {
    this.#options = options;
    this.#history = new History({
      size: options.historySize,
      ttlMs: options.historyTtlMs,
      floor: this.#clock.floor(),
    });
  }

  /** True while connected, with the exchange, queue and bindings in place. */
  get ready(): boolean {
    return this.#channel !== undefined;
  }

  async start(deliver: Deliver): Promise<void> {
    this.#deliver = deliver;
    try {
      await this.#connect();
    } catch (error) {
      throw new Error(
        `cannot connect to RabbitMQ at ${redactUrl(this.#options.url)}: ${
          (error as Error).message
        }; check --amqp-url and that RabbitMQ is running`,
      );
    }
  }

  async publish(message: Message): Promise<PublishResult> {
    const channel = this.#channel;
    if (!channel) {
      throw new UnavailableError(
        "RabbitMQ is unavailable; the message was not published, retry later",
      );
    }
    const token = crypto.randomUUID();
    const echo = message.channels.some((c) => this.#watched.has(c)) ? this.#echo(token) : undefined;
    const options = {
      headers: { [PUBLISH_HEADER]: token, [CHANNELS_HEADER]: JSON.stringify(message.channels) },
      type: message.event,
      contentType: "text/plain; charset=utf-8",
      timestamp: Math.floor(Date.now() / 1000),
    };
    const body = Buffer.from(message.data);
    try {
      for (const key of message.channels) {
        channel.publish(this.#options.exchange, key, body, options);
      }
      await channel.waitForConfirms();
    } catch (error) {
      this.#waiting.get(token)?.({ delivered: 0 });
      throw new UnavailableError(
        `RabbitMQ did not take the message: ${(error as Error).message}; retry later`,
      );
    }
    return echo ? await echo : { delivered: 0 };
  }

  replay(channels: readonly string[], lastEventId: string): Promise<Replay> {
    return Promise.resolve(this.#history.since(lastEventId, channels));
  }

  async watch(channel: string): Promise<void> {
    this.#watched.add(channel);
    if (this.#options.exchangeType === "fanout") return;
    await this.#channel?.bindQueue(this.#queue, this.#options.exchange, channel).catch((error) =>
      log.warning("cannot bind {channel}: {error}", { channel, error: error.message })
    );
  }

  unwatch(channel: string): void {
    this.#watched.delete(channel);
    if (this.#options.exchangeType === "fanout") return;
    this.#channel?.unbindQueue(this.#queue, this.#options.exchange, channel).catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    for (const resolve of this.#waiting.values()) resolve({ delivered: 0 });
    this.#channel = undefined;
    await this.#connection?.close().catch(() => {});
  }

  async #connect(): Promise<void> {
    const { url, exchange, exchangeType } = this.#options;
    const connection = await amqp.connect(url) as AmqpConnection;
    connection.on("error", (error) => log.warning("RabbitMQ: {error}", { error: error?.message }));
    connection.on("close", () => {
      this.#channel = undefined;
      if (!this.#closed) {
        log.warning("RabbitMQ connection lost; reconnecting");
        this.#reconnect(0);
      }
    });
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertExchange(exchange, exchangeType, { durable: true });
      const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
      const keys = exchangeType === "fanout" ? [""] : [...this.#watched];
      for (const key of keys) await channel.bindQueue(queue, exchange, key);
      await channel.consume(queue, (message) => message && this.#onMessage(message), {
        noAck: true,
      });
      this.#connection = connection;
      this.#queue = queue;
      this.#channel = channel;
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
  }

  #reconnect(attempt: number): void {
    const delay = Math.min(500 * 2 ** attempt, MAX_BACKOFF_MS);
    this.#retry = setTimeout(async () => {
      if (this.#closed) return;
      try {
        await this.#connect();
        log.info("RabbitMQ connection is back");
      } catch {
        this.#reconnect(attempt + 1);
      }
    }, delay);
  }

  #onMessage(message: AmqpMessage): void {
    const headers = message.properties.headers ?? {};
    const token = headers[PUBLISH_HEADER];
    const data = new TextDecoder().decode(message.content);
    let channels: string[] = [message.fields.routingKey];
    let type: string | undefined;
    if (typeof token === "string") {
      if (this.#seen.has(token)) return;
      this.#seen.add(token);
      if (this.#seen.size > 10_000) this.#seen.delete(this.#seen.values().next().value!);
      channels = parseChannels(headers[CHANNELS_HEADER]) ?? channels;
      type = message.properties.type || undefined;
    }
    let event: HubEvent;
    try {
      event = createEvent({ channels, event: type, data }, this.#clock.next());
    } catch (error) {
      log.warning("dropped an AMQP message: {error}", { error: (error as Error).message });
      return;
    }
    this.#history.append(event);
    const delivered = this.#deliver(event);
    if (typeof token === "string") this.#waiting.get(token)?.({ id: event.id, delivered });
  }

  /** Resolves with this instance's id and deliveries when the publish `token` comes back. */
  #echo(token: string): Promise<PublishResult> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish({ delivered: 0 }), ECHO_TIMEOUT_MS);
      const finish = (result: PublishResult) => {
        clearTimeout(timer);
        this.#waiting.delete(token);
        resolve(result);
      };
      this.#waiting.set(token, finish);
    });
  }
}

function parseChannels(header: unknown): string[] | undefined {
  if (typeof header !== "string") return undefined;
  try {
    const value = JSON.parse(header);
    return Array.isArray(value) && value.every((c) => typeof c === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}
