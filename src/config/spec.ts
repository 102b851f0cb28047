/**
 * Option kinds: each knows its default, its help text and how to turn a raw
 * value (a flag or environment string, or a TOML/JSON value) into a typed one.
 * A bad value throws a plain `Error` whose message says what is expected; the
 * loader adds where the value came from.
 *
 * @module
 */

/** One configuration option. */
export interface Option<T> {
  /** One line for `--help`. */
  readonly help: string;
  /** Value when no source sets it. */
  readonly default: T;
  /** Placeholder in `--help`, e.g. `N`; absent for boolean switches. */
  readonly valueName?: string;
  /** Whether the flag may be repeated to build a list. */
  readonly repeatable?: boolean;
  /** Other flag names (kebab-case) accepted for this option. */
  readonly aliases?: readonly string[];
  /**
   * The flag (kebab-case), when it is not the key's: keys name their unit
   * (`drainMs`), flags keep the name users know (`--drain-seconds`).
   */
  readonly flag?: string;
  /** Converts a raw value or throws an `Error` saying what is expected. */
  parse(raw: unknown): T;
  /** Shows a value the way a user would write it (`15s`, `1MiB`), for `--help`. */
  format?(value: T): string;
}

interface Common {
  readonly help: string;
  readonly aliases?: readonly string[];
  readonly flag?: string;
}

function describe(raw: unknown): string {
  return typeof raw === "string" ? JSON.stringify(raw) : String(raw);
}

function toNumber(raw: unknown, what: string): number {
  const n = typeof raw === "number"
    ? raw
    : typeof raw === "string" && raw.trim() !== ""
    ? Number(raw)
    : NaN;
  if (!Number.isFinite(n)) {
    throw new Error(`expected ${what}, got ${describe(raw)}`);
  }
  return n;
}

function inRange(n: number, min: number, max: number, raw: unknown): number {
  if (n < min || n > max) {
    throw new Error(
      `expected a value from ${min} to ${max}, got ${describe(raw)}`,
    );
  }
  return n;
}

/** A whole number in `[min, max]`. */
export function integer(
  o: Common & { default: number; min: number; max: number; valueName?: string },
): Option<number> {
  return {
    ...o,
    valueName: o.valueName ?? "N",
    parse(raw) {
      const n = toNumber(raw, "a whole number");
      if (!Number.isInteger(n)) {
        throw new Error(`expected a whole number, got ${describe(raw)}`);
      }
      return inRange(n, o.min, o.max, raw);
    },
  };
}

/** Milliseconds per duration unit. */
export const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Bytes per size unit (powers of 1024). */
export const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const AMOUNT = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * Reads a number with an optional unit (`15`, `1.5s`, `64KiB`; units are
 * case-insensitive) and returns it times the unit's factor, or `undefined` if
 * the value is not such a number or its unit is not in `units`. A bare number
 * is in `bareUnit`.
 */
export function parseAmount(
  raw: unknown,
  units: Readonly<Record<string, number>>,
  bareUnit: string,
): number | undefined {
  const text = typeof raw === "number" ? String(raw) : raw;
  const match = typeof text === "string" ? AMOUNT.exec(text.trim()) : null;
  if (!match) return undefined;
  const factor = units[(match[2] || bareUnit).toLowerCase()];
  return factor === undefined ? undefined : Number(match[1]) * factor;
}

/**
 * Writes `value` in the largest of `units` (largest first) that divides it
 * exactly: `15000` ms is `15s`, `1048576` bytes is `1MiB`; 0 is `0`.
 */
export function formatAmount(value: number, units: readonly (readonly [string, number])[]): string {
  if (value === 0) return "0";
  const [name, factor] = units.find(([, f]) => value % f === 0) ?? units[units.length - 1];
  return `${value / factor}${name}`;
}

const DURATION_NAMES = [["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]] as const;
const SIZE_NAMES = [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024], ["B", 1]] as const;

/** An amount with units in `[min, max]` (rounded), or an `Error` showing `examples`. */
function amount(
  raw: unknown,
  units: Readonly<Record<string, number>>,
  bareUnit: string,
  range: { min: number; max: number; examples: string },
): number {
  const value = parseAmount(raw, units, bareUnit);
  if (value === undefined) throw new Error(`expected ${range.examples}; got ${describe(raw)}`);
  return Math.round(inRange(value, range.min, range.max, raw));
}

/**
 * A duration: a number of seconds (`15`, `1.5`) or a number with a unit
 * (`500ms`, `15s`, `2m`, `1h`). The value is in milliseconds.
 */
export function duration(
  o: Common & { default: number; maxMs?: number },
): Option<number> {
  const range = {
    min: 0,
    max: o.maxMs ?? 365 * 86_400_000,
    examples: "seconds or a duration like 500ms, 15s, 2m, 1h",
  };
  return {
    ...o,
    valueName: "SECONDS",
    parse: (raw) => amount(raw, DURATION_UNITS, "s", range),
    format: (ms) => formatAmount(ms, DURATION_NAMES),
  };
}

/** A size in bytes: `65536`, `64KiB`, `1m` (units are powers of 1024). */
export function byteSize(
  o: Common & { default: number; min: number; max: number },
): Option<number> {
  const range = { min: o.min, max: o.max, examples: "a size like 65536, 64KiB or 1MiB" };
  return {
    ...o,
    valueName: "BYTES",
    parse: (raw) => amount(raw, SIZE_UNITS, "b", range),
    format: (bytes) => formatAmount(bytes, SIZE_NAMES),
  };
}

/** A string, optionally checked by `check` (which throws to reject). */
export function text(
  o: Common & {
    default: string;
    valueName?: string;
    check?: (value: string) => void;
  },
): Option<string> {
  return {
    ...o,
    valueName: o.valueName ?? "TEXT",
    parse(raw) {
      if (typeof raw !== "string") {
        throw new Error(`expected a string, got ${describe(raw)}`);
      }
      o.check?.(raw);
      return raw;
    },
  };
}

/** Whether `help` already names `word` (as a whole word). */
function names(help: string, word: string): boolean {
  return new RegExp(`(^|[^\\w.-])${word.replace(/[^\w]/g, "\\$&")}($|[^\\w-])`).test(help);
}

/**
 * One of a fixed set of words. The help lists the choices once: they are
 * appended unless the help text already names each of them.
 */
export function choice<const T extends string>(
  o: Common & { default: T; choices: readonly T[]; valueName: string },
): Option<T> {
  const listed = o.choices.every((c) => names(o.help, c));
  return {
    ...o,
    help: listed ? o.help : `${o.help}: ${o.choices.join(", ")}`,
    parse(raw) {
      if (
        typeof raw === "string" &&
        (o.choices as readonly string[]).includes(raw)
      ) {
        return raw as T;
      }
      throw new Error(
        `expected one of ${o.choices.join(", ")}; got ${describe(raw)}`,
      );
    },
  };
}

/** A list: repeated flags, comma-separated text, or a TOML/JSON array. */
export function list(
  o: Common & { default: readonly string[]; valueName?: string },
): Option<readonly string[]> {
  return {
    ...o,
    valueName: o.valueName ?? "A,B",
    repeatable: true,
    parse(raw) {
      const items = Array.isArray(raw) ? raw : [raw];
      const out: string[] = [];
      for (const item of items) {
        if (typeof item !== "string") {
          throw new Error(
            `expected text or a list of text, got ${describe(item)}`,
          );
        }
        for (const part of item.split(",")) {
          if (part.trim() !== "") out.push(part.trim());
        }
      }
      return out;
    },
  };
}

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];

/** `true`/`false` (also 1/0, yes/no, on/off, any case) or a TOML/JSON boolean. */
function parseYesNo(raw: unknown): boolean {
  if (typeof raw === "boolean") return raw;
  const word = typeof raw === "string" ? raw.trim().toLowerCase() : undefined;
  if (word !== undefined && TRUE_WORDS.includes(word)) return true;
  if (word !== undefined && FALSE_WORDS.includes(word)) return false;
  throw new Error(`expected true or false (or 1/0, yes/no, on/off), got ${describe(raw)}`);
}

/**
 * A switch: given as a bare flag (`--name`, or `--name=false`), an
 * environment value (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`) or a
 * TOML/JSON boolean. It takes no value in `--help`.
 */
export function boolean(o: Common & { default: boolean }): Option<boolean> {
  return { ...o, parse: parseYesNo };
}

/**
 * A yes/no value that takes an argument (`--flag false`), unlike a switch,
 * for options that default to true.
 */
export function flag(o: Common & { default: boolean }): Option<boolean> {
  return { ...o, valueName: "true|false", parse: parseYesNo };
}
