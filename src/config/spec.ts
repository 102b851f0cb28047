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
  /** Converts a raw value or throws an `Error` saying what is expected. */
  parse(raw: unknown): T;
}

interface Common {
  readonly help: string;
  readonly aliases?: readonly string[];
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

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i;
const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A duration: a number of seconds (`15`, `1.5`) or a number with a unit
 * (`500ms`, `15s`, `2m`, `1h`). The value is in milliseconds.
 */
export function duration(
  o: Common & { default: number; maxMs?: number },
): Option<number> {
  return {
    ...o,
    valueName: "SECONDS",
    parse(raw) {
      const text = typeof raw === "number" ? String(raw) : raw;
      const match = typeof text === "string" ? DURATION.exec(text.trim()) : null;
      if (!match) {
        throw new Error(
          `expected seconds or a duration like 500ms, 15s, 2m, 1h; got ${describe(raw)}`,
        );
      }
      const ms = Number(match[1]) *
        DURATION_UNITS[(match[2] ?? "s").toLowerCase()];
      return Math.round(inRange(ms, 0, o.maxMs ?? 365 * 86_400_000, raw));
    },
  };
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_UNITS: Record<string, number> = {
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

/** A size in bytes: `65536`, `64KiB`, `1m` (units are powers of 1024). */
export function byteSize(
  o: Common & { default: number; min: number; max: number },
): Option<number> {
  return {
    ...o,
    valueName: "BYTES",
    parse(raw) {
      const text = typeof raw === "number" ? String(raw) : raw;
      const match = typeof text === "string" ? SIZE.exec(text.trim()) : null;
      if (!match) {
        throw new Error(
          `expected a size like 65536, 64KiB or 1MiB; got ${describe(raw)}`,
        );
      }
      const bytes = Number(match[1]) *
        SIZE_UNITS[(match[2] ?? "b").toLowerCase()];
      return Math.round(inRange(bytes, o.min, o.max, raw));
    },
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

/** One of a fixed set of words. */
export function choice<const T extends string>(
  o: Common & { default: T; choices: readonly T[]; valueName: string },
): Option<T> {
  return {
    ...o,
    help: `${o.help}: ${o.choices.join(", ")}`,
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

/** An on/off switch: `--flag`, or `true`/`false`/`1`/`0`/`yes`/`no`. */
export function flag(o: Common & { default: boolean }): Option<boolean> {
  return {
    ...o,
    parse(raw) {
      if (typeof raw === "boolean") return raw;
      const word = typeof raw === "string" ? raw.trim().toLowerCase() : "";
      if (["true", "1", "yes", "on"].includes(word)) return true;
      if (["false", "0", "no", "off"].includes(word)) return false;
      throw new Error(`expected true or false, got ${describe(raw)}`);
    },
  };
}
