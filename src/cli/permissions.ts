/**
 * Turns Deno's "missing permission" error into one line that names the flag
 * to add, instead of an uncaught error with a stack trace.
 *
 * @module
 */

/** What each `--allow-*` flag grants, in words. */
const GRANTS: Readonly<Record<string, string>> = {
  net: "network access",
  env: "environment access",
  read: "read access",
  write: "write access",
  sys: "system information access",
  run: "permission to run programs",
  ffi: "FFI access",
  import: "import access",
};

/** The `--allow-*` flag a missing-permission error asks for, or `undefined` for other errors. */
export function missingPermission(error: unknown): string | undefined {
  if (!(error instanceof Deno.errors.NotCapable)) return undefined;
  return /--allow-[a-z]+/.exec(error.message)?.[0] ?? "--allow-all";
}

/**
 * One line for a missing permission, e.g. `needs network access: run with
 * --allow-net (or use deno task start)`.
 */
export function permissionMessage(flag: string): string {
  const grant = GRANTS[flag.slice("--allow-".length)] ?? "a permission";
  return `needs ${grant}: run with ${flag} (or use deno task start)`;
}
