/**
 * Builds one validated {@linkcode Config} from, highest precedence first:
 * command-line flags, `SSE_HUB_*` environment variables, a TOML or JSON
 * config file (`--config FILE`), and the defaults. An unknown or invalid flag
 * or file key, or an invalid environment value, is a {@linkcode ConfigError}
 * that names the value and its source. The environment is shared with other
 * software, so unknown `SSE_HUB_*` variables and Kubernetes service links
 * (`SSE_HUB_PORT=tcp://10.96.0.12:8888`) are ignored and reported in
 * {@linkcode IgnoredEnv} for the caller to warn about.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load.ts";
 * const command = loadConfig({ args: ["--port", "9000"], env: {} });
 * if (command.kind === "serve") command.config.port; // 9000
 * ```
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import { parse as parseToml } from "@std/toml";
import { ConfigError } from "../errors.ts";
import { type Config, defaultConfig, envName, flagName, OPTIONS, type Options } from "./options.ts";
import type { Option } from "./spec.ts";

/** An `SSE_HUB_*` variable whose value is a Kubernetes service link, not a setting. */
export interface ServiceLink {
  /** The variable, e.g. `SSE_HUB_PORT`. */
  readonly name: string;
  /** Its value, e.g. `tcp://10.96.0.12:8888`. */
  readonly value: string;
  /** The flag the variable would set, e.g. `--port`. */
  readonly flag: string;
}

/** `SSE_HUB_*` environment variables that were ignored, for a warning. */
export interface IgnoredEnv {
  /** Variables that name no option, sorted. */
  readonly unknown: readonly string[];
  /** Variables of an option whose value is a service link. */
  readonly serviceLinks: readonly ServiceLink[];
}

/** Environment variables by name. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What the command line asks for. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "serve"; readonly config: Config; readonly ignoredEnv: IgnoredEnv };

/** Where configuration comes from; injectable for tests. */
export interface ConfigSources {
  /** Command-line arguments, without the program name. */
  readonly args: readonly string[];
  /**
   * Environment variables, or a function that reads them: it is only called
   * when they are needed, so `--help` works without permission to read them.
   */
  readonly env: Env | (() => Env);
  /** Reads the config file; defaults to `Deno.readTextFileSync`. */
  readonly readTextFile?: (path: string) => string;
}

type Key = keyof Options;
const KEYS = Object.keys(OPTIONS) as Key[];
const option = (key: Key) => OPTIONS[key] as Option<unknown>;

/** Parses flags, environment and config file into a command. */
export function loadConfig(sources: ConfigSources): Command {
  const flags = readFlags(sources.args);
  if (flags.help) return { kind: "help" };
  if (flags.version) return { kind: "version" };

  const env = typeof sources.env === "function" ? sources.env() : sources.env;
  const { values: fromEnv, ignored } = readEnv(env);
  const file = (flags.values.config ?? fromEnv.config) as string | undefined;
  const fromFile = file ? readFile(file, sources.readTextFile ?? Deno.readTextFileSync) : {};

  // Every layer's values went through their option's parse, so they fit Config.
  const config = { ...defaultConfig(), ...fromFile, ...fromEnv, ...flags.values } as Config;
  checkTogether(config);
  return { kind: "serve", config, ignoredEnv: ignored };
}

/** Rules that involve several options. */
function checkTogether(config: Config): void {
  if (config.export === "graphite" && (!config.exportHost || !config.exportPort)) {
    throw new ConfigError("--export graphite needs --export-host and --export-port");
  }
  if (config.export === "graphite" && config.exportIntervalMs <= 0) {
    throw new ConfigError("--export-interval must be more than 0 seconds");
  }
  for (const key of ["headerTimeoutMs", "bodyTimeoutMs", "keepaliveTimeoutMs"] as const) {
    if (config[key] <= 0) {
      const flag = `--${flagName(key)}`;
      const example = OPTIONS[key].format!(OPTIONS[key].default);
      throw new ConfigError(`${flag} must be more than 0 seconds, e.g. ${flag} ${example}`);
    }
  }
  if ((config.cert === "") !== (config.key === "")) {
    throw new ConfigError("--cert and --key go together: give both files for HTTPS, or neither");
  }
  if (config.cert && config.transport === "node") {
    throw new ConfigError(
      "--transport node does not do TLS: use --transport serve with --cert/--key, or TLS in a proxy",
    );
  }
  if (config.private.length > 0 && !config.jwtSecret && !config.jwtPublicKey) {
    throw new ConfigError(
      "--private needs a way to check tokens: give --jwt-secret or --jwt-public-key",
    );
  }
}

function convert(key: Key, raw: unknown, source: string): unknown {
  try {
    return option(key).parse(raw);
  } catch (error) {
    throw new ConfigError(
      `invalid value for ${source}: ${(error as Error).message}`,
    );
  }
}

interface Flags {
  help: boolean;
  version: boolean;
  values: Partial<Record<Key, unknown>>;
}

function readFlags(args: readonly string[]): Flags {
  const strings: string[] = [];
  const booleans = ["help", "version"];
  const collect: string[] = [];
  const alias: Record<string, string[]> = { help: ["h"], version: ["V"] };
  for (const key of KEYS) {
    const o = option(key);
    const name = flagName(key);
    (o.valueName ? strings : booleans).push(name);
    if (o.repeatable) collect.push(name);
    if (o.aliases) alias[name] = [...o.aliases];
  }
  const rejected: string[] = [];
  const parsed = parseArgs(bindValues(args, strings, alias), {
    string: strings,
    boolean: booleans,
    collect,
    alias,
    unknown(arg: string) {
      rejected.push(arg);
      return false;
    },
  });
  if (rejected.length > 0) {
    const arg = rejected[0];
    throw new ConfigError(
      arg.startsWith("-")
        ? `unknown option ${arg.split("=")[0]}`
        : `unexpected argument ${JSON.stringify(arg)}; options start with --`,
    );
  }
  const values: Partial<Record<Key, unknown>> = {};
  for (const key of KEYS) {
    const name = flagName(key);
    const raw = parsed[name];
    const valued = option(key).valueName !== undefined;
    const given = valued
      ? raw !== undefined && !(Array.isArray(raw) && raw.length === 0)
      : args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    const value = valued ? raw : switchText(args, name) ?? raw;
    if (given) values[key] = convert(key, value, `--${name}`);
  }
  return {
    help: parsed.help === true,
    version: parsed.version === true,
    values,
  };
}

/**
 * The text after `=` of the last `--name=…` in `args`, if any. parseArgs
 * reads any such value of a boolean flag except `false` as true, so a switch
 * gets the text itself and its own parse refuses `--switch=maybe`.
 */
function switchText(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.findLast((a) => a.startsWith(prefix))?.slice(prefix.length);
}

/**
 * Joins `--name value` into `--name=value` for options that take a value, so a
 * value that looks like a flag (`--history-size -1`) reaches the option's own
 * validation instead of being read as an unknown flag.
 */
function bindValues(
  args: readonly string[],
  valued: readonly string[],
  alias: Record<string, string[]>,
): string[] {
  const names = new Set(valued.flatMap((name) => [name, ...(alias[name] ?? [])]));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith("--") && names.has(arg.slice(2)) && i + 1 < args.length) {
      out.push(`${arg}=${args[++i]}`);
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * A Kubernetes service link: for a Service named `sse-hub` every pod gets
 * `SSE_HUB_PORT=tcp://10.96.0.12:8888` and friends.
 */
const SERVICE_LINK = /^(tcp|udp|sctp):\/\/[^\s/]+:\d+$/i;

/**
 * The `SSE_HUB_*` options of the environment. Unknown names and service-link
 * values are skipped and listed in `ignored`; a bad value of a known option
 * is a {@linkcode ConfigError}.
 */
function readEnv(
  env: Env,
): { values: Partial<Record<Key, unknown>>; ignored: IgnoredEnv } {
  const byName = new Map(KEYS.map((key) => [envName(key), key]));
  const values: Partial<Record<Key, unknown>> = {};
  const unknown: string[] = [];
  const serviceLinks: ServiceLink[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("SSE_HUB_") || raw === undefined) continue;
    const key = byName.get(name);
    if (!key) {
      unknown.push(name);
    } else if (SERVICE_LINK.test(raw.trim())) {
      serviceLinks.push({ name, value: raw, flag: `--${flagName(key)}` });
    } else {
      values[key] = convert(key, raw, `environment variable ${name}`);
    }
  }
  return { values, ignored: { unknown: unknown.sort(), serviceLinks } };
}

/** Accepted spellings of each file key: `history-size`, `history_size`, `historySize`, aliases. */
function fileKeys(): Map<string, Key> {
  const names = new Map<string, Key>();
  for (const key of KEYS) {
    const kebab = flagName(key);
    for (const name of [kebab, kebab.replaceAll("-", "_"), key]) {
      names.set(name, key);
    }
    for (const a of option(key).aliases ?? []) {
      names.set(a, key);
      names.set(a.replaceAll("-", "_"), key);
    }
  }
  return names;
}

function readFile(
  path: string,
  readTextFile: (path: string) => string,
): Partial<Record<Key, unknown>> {
  let text: string;
  try {
    text = readTextFile(path);
  } catch (error) {
    // A missing --allow-read is the caller's to report, with the flag to add.
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new ConfigError(
      `cannot read config file ${path}: ${(error as Error).message}`,
    );
  }
  let data: unknown;
  try {
    data = path.endsWith(".json") ? JSON.parse(text) : parseToml(text);
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not valid ${path.endsWith(".json") ? "JSON" : "TOML"}: ${
        (error as Error).message
      }`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold a table of options`);
  }
  const names = fileKeys();
  const values: Partial<Record<Key, unknown>> = {};
  for (const [name, raw] of Object.entries(data)) {
    const key = names.get(name);
    if (!key || key === "config") {
      throw new ConfigError(
        `unknown key "${name}" in config file ${path}; keys are the flag names without "--", e.g. history-size`,
      );
    }
    values[key] = convert(key, raw, `"${name}" in ${path}`);
  }
  return values;
}
