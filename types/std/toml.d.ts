// Declarations for `@std/toml` as shipped by the npm package deno-std@1.4.0
// (toml/mod.js), which has no types of its own.

/** Options of {@linkcode stringify}. */
export interface StringifyOptions {
  /** Align the `=` of the keys of one table. */
  keyAlignment?: boolean;
}

/** Parses a TOML document into a plain object; throws when it is not TOML. */
export function parse(tomlString: string): Record<string, unknown>;
/** Writes a plain object as TOML. */
export function stringify(obj: Record<string, unknown>, options?: StringifyOptions): string;
