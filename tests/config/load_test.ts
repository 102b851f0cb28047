import { assertEquals, assertThrows } from "@std/assert";
import { type Command, type ConfigSources, loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/options.ts";
import { ConfigError } from "../../src/errors.ts";
import { KUBERNETES_ENV } from "../_helpers/kubernetes.ts";

function serve(sources: Partial<ConfigSources>): Config {
  const command: Command = loadConfig({ args: [], env: {}, ...sources });
  if (command.kind !== "serve") throw new Error(`expected serve, got ${command.kind}`);
  return command.config;
}

const files = (map: Record<string, string>) => (path: string) => {
  if (!(path in map)) throw new Deno.errors.NotFound(`no such file: ${path}`);
  return map[path];
};

Deno.test("with no sources every option has its default", () => {
  const config = serve({});
  assertEquals([config.port, config.listen, config.path], [8888, "127.0.0.1", "/"]);
  assertEquals([config.historySize, config.heartbeatMs, config.maxChannels], [1000, 15_000, 32]);
  assertEquals(config.maxMessageSize, 65_536);
});

Deno.test("flags beat environment, which beats the file, which beats defaults", () => {
  const readTextFile = files({
    "/etc/hub.toml": 'port = 1111\nhistory-size = 5\nlisten = "0.0.0.0"\nheartbeat = 3',
  });
  const config = serve({
    args: ["--config", "/etc/hub.toml", "--port", "3333"],
    env: { SSE_HUB_PORT: "2222", SSE_HUB_HISTORY_SIZE: "7" },
    readTextFile,
  });
  assertEquals(config.port, 3333);
  assertEquals(config.historySize, 7);
  assertEquals(config.listen, "0.0.0.0");
  assertEquals(config.heartbeatMs, 3000);
  assertEquals(config.retryMs, 2000);
});

Deno.test("the config file may be named by SSE_HUB_CONFIG and written in JSON", () => {
  const config = serve({
    env: { SSE_HUB_CONFIG: "/c.json" },
    readTextFile: files({ "/c.json": '{"cors-origin": ["https://a.example"], "max_channels": 4}' }),
  });
  assertEquals(config.corsOrigin, ["https://a.example"]);
  assertEquals(config.maxChannels, 4);
});

Deno.test("an unknown key in the config file is an error naming the key and the file", () => {
  assertThrows(
    () => serve({ args: ["--config", "/x.toml"], readTextFile: files({ "/x.toml": "prot = 1" }) }),
    ConfigError,
    'unknown key "prot" in config file /x.toml',
  );
});

Deno.test("a config file that cannot be read or parsed is an error naming it", () => {
  assertThrows(
    () => serve({ args: ["--config", "/missing.toml"], readTextFile: files({}) }),
    ConfigError,
    "/missing.toml",
  );
  assertThrows(
    () => serve({ args: ["--config", "/bad.json"], readTextFile: files({ "/bad.json": "{" }) }),
    ConfigError,
    "not valid JSON",
  );
});

Deno.test("an unknown flag is an error naming the flag", () => {
  assertThrows(() => serve({ args: ["--prot", "1"] }), ConfigError, "unknown option --prot");
});

Deno.test("unknown SSE_HUB_ environment variables are ignored and listed for a warning", () => {
  const command = loadConfig({ args: [], env: { SSE_HUB_PROT: "1", SSE_HUB_HISTORY_SIZE: "5" } });
  if (command.kind !== "serve") throw new Error(command.kind);
  assertEquals(command.config.historySize, 5);
  assertEquals(command.ignoredEnv.unknown, ["SSE_HUB_PROT"]);
});

Deno.test("a Kubernetes service link in a known variable is ignored and named, not an error", () => {
  const command = loadConfig({ args: [], env: KUBERNETES_ENV });
  if (command.kind !== "serve") throw new Error(command.kind);
  assertEquals(command.config.port, 8888);
  assertEquals(command.ignoredEnv.serviceLinks, [
    { name: "SSE_HUB_PORT", value: "tcp://10.96.0.12:8888", flag: "--port" },
  ]);
  assertEquals(command.ignoredEnv.unknown, [
    "SSE_HUB_PORT_8888_TCP",
    "SSE_HUB_PORT_8888_TCP_ADDR",
    "SSE_HUB_PORT_8888_TCP_PORT",
    "SSE_HUB_PORT_8888_TCP_PROTO",
    "SSE_HUB_SERVICE_HOST",
    "SSE_HUB_SERVICE_PORT",
  ]);
});

Deno.test("flags stay strict next to Kubernetes' variables: a typo is still an error", () => {
  assertThrows(
    () => serve({ args: ["--prot", "0"], env: KUBERNETES_ENV }),
    ConfigError,
    "unknown option --prot",
  );
});

Deno.test("bad values are errors naming the option and the value", () => {
  const cases: [string[], string][] = [
    [["--port", "http"], '--port: expected a whole number, got "http"'],
    [["--port", "70000"], "from 0 to 65535"],
    [["--history-size", "-1"], "--history-size"],
    [["--heartbeat", "soon"], "--heartbeat"],
    [["--max-message-size", "lots"], "--max-message-size"],
    [["--log-level", "loud"], "expected one of trace, debug"],
    [["--path", "sse"], 'starting with "/"'],
    [["--default-channel", "a,b"], "contains ','"],
  ];
  for (const [args, message] of cases) {
    assertThrows(() => serve({ args }), ConfigError, message);
  }
});

Deno.test("the slow-client timeouts default to 10 s, 30 s and 5 s, and 0 is an error naming the flag and an example", () => {
  const config = serve({});
  assertEquals(
    [config.headerTimeoutMs, config.bodyTimeoutMs, config.keepaliveTimeoutMs],
    [10_000, 30_000, 5_000],
  );
  for (const flag of ["--header-timeout", "--body-timeout", "--keepalive-timeout"]) {
    assertThrows(
      () => serve({ args: [flag, "0"] }),
      ConfigError,
      `${flag} must be more than 0 seconds, e.g. ${flag} `,
    );
  }
  assertEquals(serve({ args: ["--body-timeout", "500ms"] }).bodyTimeoutMs, 500);
});

Deno.test("bad values from the environment and the file name their source", () => {
  assertThrows(() => serve({ env: { SSE_HUB_PORT: "x" } }), ConfigError, "SSE_HUB_PORT");
  assertThrows(
    () =>
      serve({ args: ["--config", "/c.toml"], readTextFile: files({ "/c.toml": 'port = "x"' }) }),
    ConfigError,
    '"port" in /c.toml',
  );
});

Deno.test("durations and sizes accept units", () => {
  const config = serve({
    args: [
      "--heartbeat",
      "500ms",
      "--history-ttl",
      "2m",
      "--max-message-size",
      "1MiB",
      "--max-buffered",
      "128k",
    ],
  });
  assertEquals(
    [config.heartbeatMs, config.historyTtlMs, config.maxMessageSize, config.maxBuffered],
    [500, 120_000, 1024 * 1024, 128 * 1024],
  );
});

Deno.test("list options collect repeated flags and comma-separated values", () => {
  const config = serve({
    args: ["--cors-origin", "https://a.test,https://b.test", "--cors-origin", "https://c.test"],
  });
  assertEquals(config.corsOrigin, ["https://a.test", "https://b.test", "https://c.test"]);
});

Deno.test("--http-secret is cyclone-sse's name for --publish-key", () => {
  assertEquals(serve({ args: ["--http-secret", "s3cret"] }).publishKey, "s3cret");
});

Deno.test("--help and --version are commands of their own", () => {
  assertEquals(loadConfig({ args: ["--help"], env: {} }).kind, "help");
  assertEquals(loadConfig({ args: ["-V"], env: {} }).kind, "version");
});

Deno.test("a --redis-url that is not a redis:// URL is rejected with an example", () => {
  assertThrows(
    () => serve({ args: ["--redis-url", "localhost:6379"] }),
    ConfigError,
    "redis://host:6379/0",
  );
  assertThrows(
    () => serve({ args: ["--redis-url", "http://x/"] }),
    ConfigError,
    "redis: or rediss:",
  );
  assertEquals(
    serve({ args: ["--broker", "redis", "--redis-url", "rediss://h:1/2"] }).redisUrl,
    "rediss://h:1/2",
  );
});

Deno.test("a switch is set by its bare flag, true/false words in the environment, or a file boolean", () => {
  assertEquals(serve({}).eventsourceRoutes, false);
  assertEquals(serve({ args: ["--eventsource-routes"] }).eventsourceRoutes, true);
  assertEquals(
    serve({ args: ["--eventsource-routes=false"], env: { SSE_HUB_EVENTSOURCE_ROUTES: "yes" } })
      .eventsourceRoutes,
    false,
  );
  assertEquals(serve({ env: { SSE_HUB_EVENTSOURCE_ROUTES: "1" } }).eventsourceRoutes, true);
  const readTextFile = files({ "/c.toml": "eventsource-routes = true" });
  assertEquals(serve({ args: ["--config", "/c.toml"], readTextFile }).eventsourceRoutes, true);
});

Deno.test("a switch given a word that is not true or false is an error naming it", () => {
  assertThrows(
    () => serve({ args: ["--eventsource-routes=maybe"] }),
    ConfigError,
    '--eventsource-routes: expected true or false (or 1/0, yes/no, on/off), got "maybe"',
  );
  assertThrows(
    () => serve({ env: { SSE_HUB_EVENTSOURCE_ROUTES: "perhaps" } }),
    ConfigError,
    "SSE_HUB_EVENTSOURCE_ROUTES",
  );
  assertThrows(
    () =>
      serve({
        args: ["--config", "/c.json"],
        readTextFile: files({ "/c.json": '{"eventsource-routes": 3}' }),
      }),
    ConfigError,
    "got 3",
  );
});
