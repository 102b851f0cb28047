/**
 * The `sse-hub` executable: `serve` (the default), `subscribe`, `publish`.
 * Only wiring lives here.
 *
 * @module
 */

import { run } from "./src/cli/commands.ts";

// The environment is read only when needed: --help and --version run without permissions.
Deno.exit(await run(Deno.args, () => Deno.env.toObject()));
