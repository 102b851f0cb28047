// Declarations for `@std/cli/parse-args` as shipped by the npm package
// deno-std@1.4.0 (cli/parse_args.js), which has no types of its own.
// Simpler than std's own typing: flags listed literally in `boolean` are
// `boolean` and those in `string` are `string | undefined` (defaults, aliases
// and `collect` are not reflected); any other flag's value is `unknown`.

/** What `parseArgs` returns: the flags by name, and the positional arguments. */
export interface Args {
  [flag: string]: unknown;
  /** Arguments that are no flag's value. */
  _: Array<string | number>;
  /** With the `"--"` option, the arguments after `--`. */
  "--"?: string[];
}

/** Options of {@linkcode parseArgs}. */
export interface ParseOptions {
  /** Put the arguments after `--` in `"--"` instead of `_`. */
  "--"?: boolean;
  /** Other names of a flag. */
  alias?: Record<string, string | readonly string[]>;
  /** Flags that take no value (`true` for every `--flag` without `=`). */
  boolean?: boolean | string | readonly string[];
  /** Values of the flags not given. */
  default?: Record<string, unknown>;
  /** Stop at the first positional argument. */
  stopEarly?: boolean;
  /** Flags whose value is always a string. */
  string?: string | readonly string[];
  /** Flags that may repeat, collected into an array. */
  collect?: string | readonly string[];
  /** Flags that `--no-flag` sets to false. */
  negatable?: string | readonly string[];
  /** Called with each argument no option names; returning false leaves it out. */
  unknown?: (arg: string, key?: string, value?: unknown) => unknown;
}

/** The typed flags of literal `names` (none when the names are only known as `string`). */
type Typed<Names extends string, Value> = string extends Names ? unknown
  : { [Name in Names]: Value };

/** Parses command-line arguments (minimist rules). */
export function parseArgs<const B extends string = never, const S extends string = never>(
  args: string[],
  options?: ParseOptions & { boolean?: boolean | B | readonly B[]; string?: S | readonly S[] },
): Args & Typed<B, boolean> & Typed<S, string | undefined>;
