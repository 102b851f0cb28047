/**
 * `POST /disconnect` (publish key required when one is set): closes the
 * streams of a `client` token or of a `channel`. With `stop`, the client is
 * also refused (204, "stop reconnecting") for `--stop-ttl` when it comes back
 * with the same `?client=` token.
 *
 * @module
 */

import { checkPublishKey, offeredKey } from "./auth.ts";
import { BadRequestError } from "./errors.ts";
import { readBody } from "./body.ts";
import type { RouteContext } from "./context.ts";
import { json } from "./respond.ts";

const BODY_LIMIT = 16 * 1024;

function fields(body: Awaited<ReturnType<typeof readBody>>) {
  const get = (name: string): unknown =>
    body.kind === "json"
      ? (body.value as Record<string, unknown> | null)?.[name]
      : body.fields.get(name) ?? undefined;
  const text = (name: string) => {
    const value = get(name);
    if (value !== undefined && typeof value !== "string") {
      throw new BadRequestError(`"${name}" must be a string`);
    }
    return value === "" ? undefined : value;
  };
  const stop = get("stop");
  return {
    client: text("client"),
    channel: text("channel"),
    key: text("key"),
    stop: stop === true || stop === "true" || stop === "1",
  };
}

/** The disconnect route. */
export async function disconnect(
  { request, config, hub }: RouteContext,
): Promise<Response> {
  const body = await readBody(request, { maxBytes: BODY_LIMIT, timeoutMs: config.bodyTimeoutMs });
  if (body.kind === "json" && (typeof body.value !== "object" || body.value === null)) {
    throw new BadRequestError('JSON body must be an object like {"client": "…"}');
  }
  const { client, channel, key, stop } = fields(body);
  checkPublishKey(config.publishKey, offeredKey(request, key));
  if (client === undefined && channel === undefined) {
    throw new BadRequestError('give a "client" token or a "channel" to disconnect');
  }
  const stopped = stop && client !== undefined;
  // Every instance closes its own streams; the count is this instance's.
  const count = await hub.control.run({
    client,
    channel,
    stopMs: stopped ? config.stopTtlMs : undefined,
  });
  return json({ status: "ok", disconnected: count, stopped });
}
