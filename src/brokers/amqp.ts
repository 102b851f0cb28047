/**
 * The AMQP broker (RabbitMQ): instances share events through an exchange.
 *
 * - `POST /publish` assigns the event its id here and publishes the data to
 *   the exchange (`--amqp-exchange`, type `--amqp-exchange-type`) with
 *   routing key = channel and the id in a header, through a confirm channel:
 *   a 200 means RabbitMQ has taken the message. Every instance stores the
 *   event under that same id.
 * - Each instance consumes from its own exclusive, server-named queue, bound
 *   with the routing key of each channel it has local subscribers on (bound
 *   on the first, unbound after the last), so it only receives what it needs.
 * - A message published by any AMQP client with routing key `news` reaches
 *   the subscribers of `news`, its body verbatim as the data (cyclone-sse);
 *   such a message gets an id from the instance that receives it.
 * - RabbitMQ keeps no shared log, so each instance keeps its own per-channel
 *   history, complete from when it bound the channel's key: a replay asking
 *   for more than that gets an `unknown-id` gap, never a silent partial
 *   answer (docs/scaling.md).
 * - RabbitMQ down: publish answers 503; amqplib's recovery reconnects with
 *   backoff and {@linkcode AmqpBroker} re-declares, re-binds and resumes. The
 *   queue died with the connection, so the subscribers of the channels it
 *   carried get an `interrupted` gap event.
 * - `POST /disconnect` travels as a control message to every instance.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import amqp, {
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from "amqplib";
import { Buffer } from "node:buffer";
import { UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import { History, type Replay } from "../history.ts";
import { type EventId, IdClock, parseId } from "../ids.ts";
import type { Broker, BrokerSink, Control, PublishResult } from "./broker.ts";
import { Echoes } from "./echoes.ts";
import { redactUrl } from "./redact.ts";

const log = getLogger(["sse-hub", "amqp"]);

const ID_HEADER = "sse-hub-id";
const CHANNELS_HEADER = "sse-hub-channels";
const CONTROL_HEADER = "sse-hub-control";
const RETRY_HEADER = "sse-hub-retry";
/** Routing key of control messages between instances. */
const CONTROL_KEY = "sse-hub.control";
const ECHO_TIMEOUT_MS = 2000;
/** Most ids remembered to deliver a multi-channel publish once. */
const MAX_SEEN = 10_000;

/** Options for {@linkcode AmqpBroker}. */
export interface AmqpBrokerOptions {
  /** `amqp://user:pass@host:5672/vhost`. */
  readonly url: string;
  readonly exchange: string;
  readonly exchangeType: "direct" | "topic" | "fanout";
  /** Whether the exchange is declared durable (default true); cyclone-sse's is not. */
  readonly exchangeDurable?: boolean;
  readonly historySize: number;
  readonly historyTtlMs: number;
  readonly historyMaxBytes?: number;
}

/** Shares events between instances through a RabbitMQ exchange. */
export class AmqpBroker implements Broker {
  readonly kind = "amqp";
  readonly #options: AmqpBrokerOptions;
  readonly #clock = new IdClock();
  readonly #history: History;
  readonly #echoes = new Echoes(ECHO_TIMEOUT_MS);
  /** This instance, so that it skips its own control messages. */
  readonly #instance = crypto.randomUUID();
  /** Channels with local subscribers: the queue's bindings. */
  readonly #watched = new Set<string>();
  /** Ids already delivered (a multi-channel publish is one message per channel). */
  readonly #seen = new Set<string>();
  #sink: BrokerSink | undefined;
  #model: RecoveringChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #queue = "";
  /** The newest id delivered, for the gap event after an outage. */
  #lastDelivered: string | undefined;
  #interrupted = false;

  constructor(options: AmqpBrokerOptions) {
    this.#options = options;
    this.#history = new History({
      size: options.historySize,
      ttlMs: options.historyTtlMs,
      maxBytes: options.historyMaxBytes,
      floor: this.#clock.floor(),
    });
  }

  /** True while connected, with the exchange, queue and bindings in place. */
  get ready(): boolean {
    return this.#channel !== undefined;
  }

  async start(sink: BrokerSink): Promise<void> {
    this.#sink = sink;
    try {
      this.#model = await amqp.connect(this.#options.url, {
        recovery: {
          initialMaxRetries: 0,
          maxDelay: 10_000,
          setup: (model: ChannelModel) => this.#setup(model),
        },
      });
    } catch (error) {
      if (error instanceof ExchangeMismatchError) throw error;
      throw new Error(
        `cannot connect to RabbitMQ at ${redactUrl(this.#options.url)}: ${
          (error as Error).message
        }; check --amqp-url and that RabbitMQ is running`,
      );
    }
    this.#model.on(
      "error",
      (error: Error) => log.debug("RabbitMQ: {error}", { error: error.message }),
    );
    this.#model.on("disconnect", (error: Error) => {
      this.#channel = undefined;
      this.#interrupted = true;
      log.warning("RabbitMQ connection lost ({error}); publishing answers 503 until it is back", {
        error: error?.message,
      });
    });
  }

  async publish(message: Message): Promise<PublishResult> {
    const channel = this.#channel;
    if (!channel) {
      throw new UnavailableError(
        "RabbitMQ is unavailable; the message was not published, retry later",
      );
    }
    const id = this.#clock.next();
    const local = message.channels.some((c) => this.#watched.has(c)) ||
      this.#options.exchangeType === "fanout";
    const echo = local ? this.#echoes.expect(id) : undefined;
    const options = {
      headers: {
        [ID_HEADER]: id,
        [CHANNELS_HEADER]: JSON.stringify(message.channels),
        ...(message.retry === undefined ? {} : { [RETRY_HEADER]: message.retry }),
      },
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
      this.#echoes.cancel(id);
      throw new UnavailableError(
        `RabbitMQ did not take the message: ${(error as Error).message}; retry later`,
      );
    }
    return { id, delivered: echo ? await echo : 0 };
  }

  replay(channels: readonly string[], lastEventId: string): Promise<Replay> {
    return Promise.resolve(this.#history.since(lastEventId, channels));
  }

  async watch(channel: string): Promise<void> {
    this.#watched.add(channel);
    if (this.#options.exchangeType === "fanout") return;
    await this.#channel?.bindQueue(this.#queue, this.#options.exchange, channel)
      .then(() => this.#history.coverFrom(channel, this.#now()))
      .catch((error: Error) =>
        log.warning("cannot bind {channel}: {error}", { channel, error: error.message })
      );
  }

  unwatch(channel: string): void {
    this.#watched.delete(channel);
    if (this.#options.exchangeType === "fanout" || channel === CONTROL_KEY) return;
    this.#channel?.unbindQueue(this.#queue, this.#options.exchange, channel).catch(() => {});
  }

  async broadcast(command: Control): Promise<void> {
    const channel = this.#channel;
    if (!channel) throw new UnavailableError("RabbitMQ is unavailable; retry later");
    channel.publish(this.#options.exchange, CONTROL_KEY, Buffer.from(JSON.stringify(command)), {
      headers: { [CONTROL_HEADER]: this.#instance },
    });
    await channel.waitForConfirms();
  }

  /** RabbitMQ holds no shared state: each instance keeps the stops it was told of. */
  isStopped(_client: string): Promise<boolean> {
    return Promise.resolve(false);
  }

  async close(): Promise<void> {
    this.#echoes.cancel();
    this.#channel = undefined;
    await this.#model?.close().catch(() => {});
  }

  /** After every (re)connect: exchange, queue, bindings, consumer. */
  async #setup(model: ChannelModel): Promise<void> {
    const { exchange, exchangeType, exchangeDurable = true } = this.#options;
    const channel = await model.createConfirmChannel();
    // A channel the server closes (a refused declare) emits "error": without
    // a listener that would end the process before the reason is told.
    channel.on("error", (error: Error) => log.debug("RabbitMQ: {error}", { error: error.message }));
    await channel.assertExchange(exchange, exchangeType, { durable: exchangeDurable })
      .catch((error: Error & { code?: number }) => {
        if (error.code !== 406) throw error;
        const mismatch = new ExchangeMismatchError(exchange, error.message);
        // At start the error stops sse-hub; on a reconnect recovery retries.
        if (this.#model) log.error("{error}", { error: mismatch.message });
        throw mismatch;
      });
    const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
    const keys = exchangeType === "fanout" ? [""] : [CONTROL_KEY, ...this.#watched];
    for (const key of keys) await channel.bindQueue(queue, exchange, key);
    await channel.consume(queue, (message) => message && this.#onMessage(message), {
      noAck: true,
    });
    this.#queue = queue;
    this.#channel = channel;
    if (this.#interrupted) {
      // What was published while the queue was gone never reached this
      // instance: its history restarts now, and live subscribers are told.
      this.#interrupted = false;
      const now = this.#now();
      const channels = [...this.#watched];
      for (const name of channels) this.#history.coverFrom(name, now);
      if (channels.length > 0) this.#sink?.interrupted(channels, this.#lastDelivered);
      log.info("RabbitMQ connection is back");
    }
  }

  #onMessage(message: ConsumeMessage): void {
    const headers = message.properties.headers ?? {};
    if (typeof headers[CONTROL_HEADER] === "string") return this.#onControl(message);
    const data = new TextDecoder().decode(message.content);
    const given = typeof headers[ID_HEADER] === "string" ? parseId(headers[ID_HEADER]) : null;
    let channels: string[] = [message.fields.routingKey];
    let type: string | undefined;
    let retry: number | undefined;
    let id: string;
    if (given) {
      id = headers[ID_HEADER] as string;
      if (this.#seen.has(id)) return;
      this.#seen.add(id);
      if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.values().next().value!);
      this.#clock.observe(given);
      channels = parseChannels(headers[CHANNELS_HEADER]) ?? channels;
      type = message.properties.type || undefined;
      retry = typeof headers[RETRY_HEADER] === "number" ? headers[RETRY_HEADER] : undefined;
    } else {
      id = this.#clock.next();
    }
    let event: HubEvent;
    try {
      event = createEvent({ channels, event: type, data, retry }, id, given?.ms);
    } catch (error) {
      log.warning("dropped an AMQP message: {error}", { error: (error as Error).message });
      return;
    }
    this.#history.append(event);
    this.#lastDelivered = id;
    const delivered = this.#sink?.deliver(event) ?? 0;
    if (given) this.#echoes.settle(id, delivered);
  }

  #onControl(message: ConsumeMessage): void {
    if (message.properties.headers?.[CONTROL_HEADER] === this.#instance) return;
    try {
      this.#sink?.control(JSON.parse(new TextDecoder().decode(message.content)) as Control);
    } catch {
      log.warning("ignored a malformed control message");
    }
  }

  /** An id for "now": history is complete from here on. */
  #now(): EventId {
    return this.#clock.floor();
  }
}

/**
 * RabbitMQ refused to declare the exchange (406 PRECONDITION_FAILED): it
 * exists with other settings. The message names the setting and the option
 * that matches it, e.g. `RabbitMQ refused exchange "sse-cyclone-server": it
 * exists with durable=false; start with --amqp-exchange-durable false`.
 */
export class ExchangeMismatchError extends Error {
  constructor(exchange: string, serverMessage: string) {
    super(describeMismatch(exchange, serverMessage));
    this.name = "ExchangeMismatchError";
  }
}

/** The options that set each exchange argument RabbitMQ compares. */
const MISMATCH_OPTIONS: Readonly<Record<string, string>> = {
  durable: "--amqp-exchange-durable",
  type: "--amqp-exchange-type",
};

/**
 * RabbitMQ's `inequivalent arg 'durable' for exchange 'x' in vhost '/':
 * received 'true' but current is 'false'` → what to change.
 */
export function describeMismatch(exchange: string, serverMessage: string): string {
  const refused = `RabbitMQ refused exchange ${JSON.stringify(exchange)}`;
  const match = /inequivalent arg '([^']+)'.*current is '([^']*)'/.exec(serverMessage);
  const option = match ? MISMATCH_OPTIONS[match[1]] : undefined;
  if (match && option) {
    return `${refused}: it exists with ${match[1]}=${match[2]}; start with ${option} ${match[2]}`;
  }
  return `${refused}: it exists with other settings (${serverMessage}); ` +
    "delete it in RabbitMQ or use another --amqp-exchange";
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
