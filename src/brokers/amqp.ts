/**
 * The AMQP broker (RabbitMQ): instances share events through an exchange.
 *
 * - `POST /publish` publishes the data to the exchange (`--amqp-exchange`,
 *   type `--amqp-exchange-type`) with routing key = channel and a publish
 *   token in a header, through a confirm channel: a 200 means RabbitMQ has
 *   taken the message.
 * - Each instance consumes from its own exclusive, server-named queue, bound
 *   with the routing key of each channel it has local subscribers on (bound
 *   on the first, unbound after the last), so it only receives what it needs.
 * - A message published by any AMQP client with routing key `news` reaches
 *   the subscribers of `news`, its body verbatim as the data (cyclone-sse).
 * - RabbitMQ keeps no shared log and messages from several publishers reach
 *   each instance in its own order, so each instance stamps what it receives
 *   with its own ids, in the order it delivers them: a replay on the same
 *   instance is exact. Its ids carry its stamp (the sequence's low bits), so
 *   a cursor from another instance is told `unknown-id`, never answered as if
 *   complete; and its per-channel history is complete only from when it bound
 *   the channel's key (docs/scaling.md).
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
import { ProtocolError, UnavailableError } from "../errors.ts";
import { createEvent, type HubEvent, type Message } from "../event.ts";
import { History, type Replay } from "../history.ts";
import { type EventId, IdClock, parseId } from "../ids.ts";
import type { Broker, BrokerSink, Control, PublishResult } from "./broker.ts";
import { Echoes } from "./echoes.ts";
import { ExchangeMismatchError } from "./amqp_exchange.ts";
import { Outage } from "./outage.ts";
import { redactUrl } from "./redact.ts";

const log = getLogger(["sse-hub", "amqp"]);

/** A publish's token: its echo, and the one delivery of its copies (one per channel). */
const PUBLISH_HEADER = "sse-hub-publish";
const CHANNELS_HEADER = "sse-hub-channels";
const CONTROL_HEADER = "sse-hub-control";
const RETRY_HEADER = "sse-hub-retry";
/** Routing key of control messages between instances. */
const CONTROL_KEY = "sse-hub.control";
const ECHO_TIMEOUT_MS = 2000;
/** AMQP's limit on a routing key (a short string). */
const MAX_ROUTING_KEY_BYTES = 255;
/** Sequence numbers are `n * STAMPS + stamp`: the low bits name the instance. */
const STAMPS = 2 ** 20;
/** Most publish tokens remembered to deliver a multi-channel publish once. */
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
  readonly #echoes = new Echoes<PublishResult>(ECHO_TIMEOUT_MS, { delivered: 0 });
  /** This instance's stamp in the ids it hands out. */
  readonly #stamp = Math.floor(Math.random() * STAMPS);
  /** This instance, so that it skips its own control messages. */
  readonly #instance = crypto.randomUUID();
  /** Channels with local subscribers: the queue's bindings. */
  readonly #watched = new Set<string>();
  /** Publish tokens already delivered (a multi-channel publish is one message per channel). */
  readonly #seen = new Set<string>();
  #sink: BrokerSink | undefined;
  #model: RecoveringChannelModel | undefined;
  #channel: ConfirmChannel | undefined;
  #queue = "";
  /** The newest id delivered, for the gap event after an outage. */
  #lastDelivered: string | undefined;
  #interrupted = false;
  readonly #outage = new Outage(log, "RabbitMQ");

  constructor(options: AmqpBrokerOptions) {
    this.#options = options;
    this.#history = new History({
      size: options.historySize,
      ttlMs: options.historyTtlMs,
      maxBytes: options.historyMaxBytes,
      floor: this.#now(),
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
      this.#outage.begin(error?.message ?? "connection closed");
    });
  }

  async publish(message: Message): Promise<PublishResult> {
    const channel = this.#channel;
    if (!channel) {
      this.#outage.refused++;
      throw new UnavailableError(
        "RabbitMQ is unavailable; the message was not published, retry later",
      );
    }
    const token = crypto.randomUUID();
    const local = message.channels.some((c) => this.#watched.has(c)) ||
      this.#options.exchangeType === "fanout";
    const echo = local ? this.#echoes.expect(token) : undefined;
    const options = {
      headers: {
        [PUBLISH_HEADER]: token,
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
      this.#echoes.cancel(token);
      throw new UnavailableError(
        `RabbitMQ did not take the message: ${(error as Error).message}; retry later`,
      );
    }
    // The id is the one this instance stamped when the message came back.
    return echo ? await echo : { delivered: 0 };
  }

  replay(channels: readonly string[], lastEventId: string): Promise<Replay> {
    const replay = this.#history.since(lastEventId, channels);
    const last = parseId(lastEventId);
    if (!last || last.seq % STAMPS === this.#stamp) return Promise.resolve(replay);
    // Another instance's id: its order is not this one's.
    return Promise.resolve({ events: replay.events, gaps: [{ reason: "unknown-id", channels }] });
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

  checkChannel(channel: string): void {
    const bytes = new TextEncoder().encode(channel).byteLength;
    if (bytes > MAX_ROUTING_KEY_BYTES) {
      throw new ProtocolError(
        `channel name ${JSON.stringify(channel.slice(0, 40) + "…")} is ${bytes} bytes of UTF-8; ` +
          `with --broker amqp a channel is a routing key of at most ${MAX_ROUTING_KEY_BYTES} bytes`,
      );
    }
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
      this.#outage.end(0);
    }
  }

  #onMessage(message: ConsumeMessage): void {
    const headers = message.properties.headers ?? {};
    if (typeof headers[CONTROL_HEADER] === "string") return this.#onControl(message);
    const data = new TextDecoder().decode(message.content);
    const token = headers[PUBLISH_HEADER];
    let channels: string[] = [message.fields.routingKey];
    let type: string | undefined;
    let retry: number | undefined;
    if (typeof token === "string") {
      if (this.#seen.has(token)) return;
      this.#seen.add(token);
      if (this.#seen.size > MAX_SEEN) this.#seen.delete(this.#seen.values().next().value!);
      channels = parseChannels(headers[CHANNELS_HEADER]) ?? channels;
      type = message.properties.type || undefined;
      retry = typeof headers[RETRY_HEADER] === "number" ? headers[RETRY_HEADER] : undefined;
    }
    const id = this.#nextId();
    let event: HubEvent;
    try {
      event = createEvent({ channels, event: type, data, retry }, id);
    } catch (error) {
      log.warning("dropped an AMQP message: {error}", { error: (error as Error).message });
      return;
    }
    this.#history.append(event);
    this.#lastDelivered = id;
    const delivered = this.#sink?.deliver(event) ?? 0;
    if (typeof token === "string") this.#echoes.settle(token, { id, delivered });
  }

  #onControl(message: ConsumeMessage): void {
    if (message.properties.headers?.[CONTROL_HEADER] === this.#instance) return;
    try {
      this.#sink?.control(JSON.parse(new TextDecoder().decode(message.content)) as Control);
    } catch {
      log.warning("ignored a malformed control message");
    }
  }

  /** The next id, stamped as this instance's. */
  #nextId(): string {
    const { ms, seq } = parseId(this.#clock.next())!;
    return `${ms}-${seq * STAMPS + this.#stamp}`;
  }

  /** An id for "now", in stamped form: history is complete from here on. */
  #now(): EventId {
    const { ms, seq } = this.#clock.floor();
    return { ms, seq: seq * STAMPS };
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
