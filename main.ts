/**
 * The `sse-hub` executable: `serve` (the default), `subscribe`, `publish`.
 * Only wiring lives here.
 *
 * @module
 */

import { run } from "./src/cli/commands.ts";

Deno.exit(await run(Deno.args, Deno.env.toObject()));
