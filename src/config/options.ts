/**
 * Every configuration option, in one table. Flag names are the kebab-case of
 * the keys (`historySize` → `--history-size`), environment variables the
 * `SSE_HUB_` upper-snake-case (`SSE_HUB_HISTORY_SIZE`), and config-file keys
 * the flag names (`history-size = 1000`). Adding an option is adding an entry.
 *
 * @module
 */

import { parseClusterSeeds } from "../brokers/redis_cluster_seeds.ts";
import { validateChannel } from "../channels.ts";
import {
  boolean,
  byteSize,
  choice,
  duration,
  flag,
  integer,
  list,
  type Option,
  text,
} from "./spec.ts";

const LOG_LEVELS = [
  "trace",
  "debug",
  "info",
  "warning",
  "error",
  "fatal",
] as const;

/** Throws unless `value` is a URL with one of `protocols`. */
function checkUrl(value: string, protocols: readonly string[], example: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`expected a URL like ${example}, got "${value}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new Error(`expected a ${protocols.join(" or ")} URL like ${example}, got "${value}"`);
  }
}

/** Log levels, lowest first. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A complete, validated configuration. */
export interface Config {
  readonly port: number;
  readonly listen: string;
  readonly path: string;
  readonly transport: "auto" | "serve" | "node";
  readonly cert: string;
  readonly key: string;
  readonly config: string;
  /** Milliseconds a client has to send a request head. */
  readonly headerTimeoutMs: number;
  /** Milliseconds a client has to send a request body. */
  readonly bodyTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection (not a stream) is kept. */
  readonly keepaliveTimeoutMs: number;
  readonly historySize: number;
  /** Milliseconds; 0 keeps events until pushed out. */
  readonly historyTtlMs: number;
  readonly historyMaxBytes: number;
  /** Milliseconds; 0 disables heartbeats. */
  readonly heartbeatMs: number;
  /** Milliseconds. */
  readonly retryMs: number;
  readonly maxBuffered: number;
  /** Milliseconds. */
  readonly pollTimeoutMs: number;
  readonly defaultChannel: string;
  readonly maxChannels: number;
  readonly clientTokens: "signed" | "free";
  readonly clientTokenSecret: string;
  readonly corsOrigin: readonly string[];
  /** Serve the eventsource library's `GET /poll/<token>` and `POST /<action>/<token>`. */
  readonly eventsourceRoutes: boolean;
  readonly publishKey: string;
  readonly maxMessageSize: number;
  /** Milliseconds. */
  readonly drainMs: number;
  /** Milliseconds; 0 = never. */
  readonly maxLifetimeMs: number;
  /** Milliseconds. */
  readonly stopTtlMs: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly publishRate: number;
  readonly private: readonly string[];
  readonly jwtSecret: string;
  readonly jwtPublicKey: string;
  readonly jwtAudience: string;
  readonly jwtIssuer: string;
  readonly authCookie: string;
  readonly broker: "memory" | "redis" | "amqp";
  readonly redisUrl: string;
  readonly redisCluster: string;
  readonly redisPrefix: string;
  readonly redisFormat: "raw" | "tornado";
  readonly amqpUrl: string;
  readonly amqpExchange: string;
  readonly amqpExchangeType: "direct" | "topic" | "fanout";
  readonly amqpExchangeDurable: boolean;
  readonly export: "none" | "graphite";
  readonly exportHost: string;
  readonly exportPort: number;
  readonly exportProtocol: "udp" | "tcp";
  /** Milliseconds. */
  readonly exportIntervalMs: number;
  readonly exportPath: string;
  readonly logLevel: LogLevel;
  readonly logFormat: "text" | "json";
}

/** One option per configuration key. */
export type Options = { readonly [K in keyof Config]: Option<Config[K]> };

/** The option table. */
export const OPTIONS: Options = {
  // --- listening ---
  port: integer({
    help: "TCP port to listen on; 0 picks a free one",
    default: 8888,
    min: 0,
    max: 65535,
    valueName: "PORT",
  }),
  listen: text({
    help: "address to bind (0.0.0.0 for every interface)",
    default: "127.0.0.1",
    valueName: "ADDR",
  }),
  path: text({
    help: "URL path of the subscribe stream",
    default: "/",
    valueName: "PATH",
    check(value) {
      if (!value.startsWith("/")) {
        throw new Error(`expected a path starting with "/", got "${value}"`);
      }
    },
  }),
  transport: choice({
    help:
      "how streams are served: auto (node for plain HTTP, serve with TLS), serve (Deno.serve, HTTP/2 with TLS) or node (node:http, leanest)",
    default: "auto",
    choices: ["auto", "serve", "node"] as const,
    valueName: "KIND",
  }),
  cert: text({
    help: "TLS certificate (PEM) file: serve HTTPS (and HTTP/2) with --key",
    default: "",
    valueName: "FILE",
  }),
  key: text({
    help: "TLS private key (PEM) file, with --cert",
    default: "",
    valueName: "FILE",
  }),
  config: text({
    help: "read options from this TOML or JSON file",
    default: "",
    valueName: "FILE",
  }),
  headerTimeoutMs: duration({
    flag: "header-timeout",
    help:
      "close a connection whose request head has not all arrived after this long (--transport node)",
    default: 10_000,
    maxMs: 3_600_000,
  }),
  bodyTimeoutMs: duration({
    flag: "body-timeout",
    help: "answer 408 to a request body that has not all arrived after this long",
    default: 30_000,
    maxMs: 3_600_000,
  }),
  keepaliveTimeoutMs: duration({
    flag: "keepalive-timeout",
    help:
      "close a keep-alive connection idle this long between requests (--transport node; streams never time out)",
    default: 5_000,
    maxMs: 3_600_000,
  }),

  // --- streams ---
  historySize: integer({
    help: "events of each channel kept for Last-Event-ID replay",
    default: 1000,
    min: 0,
    max: 10_000_000,
  }),
  historyTtlMs: duration({
    flag: "history-ttl",
    help: "drop replay events older than this; 0 keeps them until pushed out",
    default: 0,
  }),
  historyMaxBytes: byteSize({
    help: "most memory the replay history of all channels takes; the oldest events go first",
    default: 64 * 1024 ** 2,
    min: 0,
    max: 64 * 1024 ** 3,
  }),
  heartbeatMs: duration({
    flag: "heartbeat",
    help: "seconds between heartbeat comments on every stream; 0 disables",
    default: 15_000,
  }),
  retryMs: duration({
    flag: "retry",
    help: "reconnection delay told to clients in the first `retry:` line",
    default: 2_000,
    maxMs: 86_400_000,
  }),
  maxBuffered: byteSize({
    help: "bytes queued for one slow client before it is cut off (it reconnects and replays)",
    default: 1024 * 1024,
    min: 64 * 1024,
    max: 1024 ** 3,
  }),
  pollTimeoutMs: duration({
    flag: "poll-timeout",
    help: "how long a long-poll request waits for an event before answering empty",
    default: 25_000,
    maxMs: 300_000,
  }),
  defaultChannel: text({
    help: "channel for subscribe requests that name none (else they get 400)",
    default: "",
    valueName: "NAME",
    check(value) {
      if (value !== "") validateChannel(value);
    },
  }),
  maxChannels: integer({
    help: "most channels one connection may subscribe to",
    default: 32,
    min: 1,
    max: 10_000,
  }),
  clientTokens: choice({
    help:
      "client tokens given back with ?client=: signed (only ones sse-hub issued) or free (any name; unsafe)",
    default: "signed",
    choices: ["signed", "free"] as const,
    valueName: "KIND",
  }),
  clientTokenSecret: text({
    help:
      "secret that signs client tokens; instances behind one load balancer share it (default: random per process)",
    default: "",
    valueName: "SECRET",
  }),
  corsOrigin: list({
    help: "origins allowed by CORS: * for any, or a list (credentials allowed)",
    default: ["*"],
    valueName: "ORIGINS",
  }),
  eventsourceRoutes: boolean({
    help: "also serve the eventsource library's GET /poll/TOKEN and POST /ping/TOKEN, /close/TOKEN",
    default: false,
  }),

  // --- publishing ---
  publishKey: text({
    help: "secret required by POST /publish (form key, Bearer or X-Publish-Key)",
    default: "",
    valueName: "KEY",
    aliases: ["http-secret"],
  }),
  maxMessageSize: byteSize({
    help: "largest message data accepted by POST /publish",
    default: 64 * 1024,
    min: 1,
    max: 64 * 1024 ** 2,
  }),

  drainMs: duration({
    flag: "drain-seconds",
    help: "on SIGTERM, close streams spread over this long (healthz 503, new subscribers refused)",
    default: 10_000,
    maxMs: 3_600_000,
  }),
  maxLifetimeMs: duration({
    flag: "max-lifetime",
    help: "close each connection after about this long (clients reconnect and replay); 0 = never",
    default: 0,
  }),
  stopTtlMs: duration({
    flag: "stop-ttl",
    help: "how long a client told to stop (POST /disconnect with stop) gets 204 when it reconnects",
    default: 3_600_000,
  }),

  // --- limits ---
  maxConnections: integer({
    help: "most open streams; more get 503 (0 = no limit)",
    default: 0,
    min: 0,
    max: 10_000_000,
  }),
  maxConnectionsPerIp: integer({
    help: "most open streams from one client address; more get 429 (0 = no limit)",
    default: 0,
    min: 0,
    max: 10_000_000,
  }),
  publishRate: integer({
    help:
      "publishes a second allowed per publish key (or client address); more get 429 (0 = no limit)",
    default: 0,
    min: 0,
    max: 1_000_000,
  }),

  // --- private channels ---
  private: list({
    help: "channel patterns that need a JWT granting them, e.g. private.*,user.*",
    default: [],
    valueName: "PATTERNS",
  }),
  jwtSecret: text({
    help: "HS256 secret that signs subscriber tokens",
    default: "",
    valueName: "SECRET",
  }),
  jwtPublicKey: text({
    help: "PEM public key file that verifies RS256/ES256 subscriber tokens",
    default: "",
    valueName: "FILE",
  }),
  jwtAudience: text({
    help: "when set, the aud claim every subscriber or publisher token must carry",
    default: "",
    valueName: "AUD",
  }),
  jwtIssuer: text({
    help: "when set, the iss claim every subscriber or publisher token must carry",
    default: "",
    valueName: "ISS",
  }),
  authCookie: text({
    help: "cookie a subscriber token may come in (for same-site pages)",
    default: "",
    valueName: "NAME",
  }),

  // --- brokers ---
  broker: choice({
    help: "where events go between instances: memory (this process only), redis or amqp",
    default: "memory",
    choices: ["memory", "redis", "amqp"] as const,
    valueName: "KIND",
  }),
  redisUrl: text({
    help: "Redis to use with --broker redis",
    default: "redis://127.0.0.1:6379/0",
    valueName: "URL",
    check: (value) => checkUrl(value, ["redis:", "rediss:"], "redis://host:6379/0"),
  }),
  redisCluster: text({
    help:
      "Redis Cluster seed nodes for --broker redis, instead of --redis-url: HOST:PORT[,HOST:PORT…], or redis[s]://[user:pass@]host:port for credentials and TLS",
    default: "",
    valueName: "SEEDS",
    check: (value) => void (value === "" || parseClusterSeeds(value)),
  }),
  redisPrefix: text({
    help:
      "prefix of every Redis key and channel sse-hub uses (SSE channel news = Redis channel <prefix>news)",
    default: "",
    valueName: "PREFIX",
  }),
  redisFormat: choice({
    help:
      'raw Redis messages: raw (verbatim, cyclone-sse) or tornado (["event", data], tornado-sse/django-sse)',
    default: "raw",
    choices: ["raw", "tornado"] as const,
    valueName: "FORMAT",
  }),
  amqpUrl: text({
    help: "RabbitMQ to use with --broker amqp",
    default: "amqp://guest:guest@127.0.0.1:5672/",
    valueName: "URL",
    check: (value) => checkUrl(value, ["amqp:", "amqps:"], "amqp://user:pass@host:5672/vhost"),
  }),
  amqpExchange: text({
    help: "exchange events are published to (routing key = channel)",
    default: "sse-hub",
    valueName: "NAME",
  }),
  amqpExchangeType: choice({
    help: "type of that exchange",
    default: "direct",
    choices: ["direct", "topic", "fanout"] as const,
    valueName: "TYPE",
  }),
  amqpExchangeDurable: flag({
    help: "declare that exchange durable; false for cyclone-sse's (and pika's default) exchange",
    default: true,
  }),

  // --- export ---
  export: choice({
    help: "periodic export of subscriber counts",
    default: "none",
    choices: ["none", "graphite"] as const,
    valueName: "KIND",
  }),
  exportHost: text({ help: "Graphite host", default: "", valueName: "HOST" }),
  exportPort: integer({ help: "Graphite port", default: 0, min: 0, max: 65535, valueName: "PORT" }),
  exportProtocol: choice({
    help: "how lines are sent",
    default: "udp",
    choices: ["udp", "tcp"] as const,
    valueName: "PROTO",
  }),
  exportIntervalMs: duration({
    flag: "export-interval",
    help: "seconds between exports",
    default: 60_000,
  }),
  exportPath: text({
    help: "metric path prefix: <path>.<channel> <subscribers> <time>",
    default: "sse-hub",
    valueName: "PREFIX",
  }),

  // --- logs ---
  logLevel: choice({
    help: "lowest level logged",
    default: "info",
    choices: LOG_LEVELS,
    valueName: "LEVEL",
  }),
  logFormat: choice({
    help: "log line format",
    default: "text",
    choices: ["text", "json"] as const,
    valueName: "FORMAT",
  }),
};

/** The defaults, as a complete configuration. */
export function defaultConfig(): Config {
  return Object.fromEntries(
    Object.entries(OPTIONS).map(([key, option]) => [key, option.default]),
  ) as unknown as Config;
}

/** `historySize` → `history-size`, unless the option names its flag (`drainMs` → `drain-seconds`). */
export function flagName(key: string): string {
  return OPTIONS[key as keyof Config]?.flag ??
    key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** `historySize` → `SSE_HUB_HISTORY_SIZE`. */
export function envName(key: string): string {
  return "SSE_HUB_" + flagName(key).replaceAll("-", "_").toUpperCase();
}
