/**
 * `--redis-cluster`: the seed nodes of a Redis Cluster, with the credentials
 * and TLS every node takes. Read without loading the Redis client, so the
 * config can check it.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** Where and how to reach a cluster: its seed nodes, and what every node takes. */
export interface ClusterSeeds {
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string;
  readonly password?: string;
  /** Connect with TLS (`rediss://` seeds). */
  readonly tls: boolean;
}

/**
 * Reads `--redis-cluster`: seed nodes as `HOST:PORT` or
 * `redis[s]://[user:pass@]host:port`, comma-separated; credentials and TLS
 * come from the URL seeds and must agree. Throws {@linkcode ConfigError}
 * naming the bad seed.
 *
 * @example
 * ```ts
 * import { parseClusterSeeds } from "./redis_cluster_seeds.ts";
 * parseClusterSeeds("10.0.0.1:7000,10.0.0.2:7000").nodes.length; // 2
 * parseClusterSeeds("rediss://:secret@redis-0:6380").tls; // true
 * ```
 */
export function parseClusterSeeds(text: string): ClusterSeeds {
  const nodes: { host: string; port: number }[] = [];
  const auth = new Set<string>();
  let tls: boolean | undefined;
  for (const seed of text.split(",").map((part) => part.trim()).filter(Boolean)) {
    const url = parseSeed(seed);
    const secure = url.protocol === "rediss:";
    if (tls !== undefined && tls !== secure && seed.includes("://")) {
      throw new ConfigError(
        `--redis-cluster mixes redis:// and rediss:// seeds (${seed}); use one scheme for all`,
      );
    }
    if (seed.includes("://")) {
      tls = secure;
      auth.add(`${url.username}\n${url.password}`);
    }
    nodes.push({ host: url.hostname, port: Number(url.port || 6379) });
  }
  if (nodes.length === 0) {
    throw new ConfigError("--redis-cluster has no seed node; give HOST:PORT[,HOST:PORT…]");
  }
  if (auth.size > 1) {
    throw new ConfigError(
      "--redis-cluster seeds carry different credentials; give the same to all",
    );
  }
  const [username, password] = [...auth][0]?.split("\n") ?? [];
  return {
    nodes,
    tls: tls ?? false,
    ...(username ? { username: decodeURIComponent(username) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
  };
}

function parseSeed(seed: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(seed.includes("://") ? seed : `redis://${seed}`);
  } catch {
    // reported below
  }
  const port = Number(url?.port || 6379);
  if (
    !url || !["redis:", "rediss:"].includes(url.protocol) || !url.hostname ||
    !(port > 0 && port < 65536) || (url.pathname !== "" && url.pathname !== "/")
  ) {
    throw new ConfigError(
      `--redis-cluster seed ${
        JSON.stringify(seed)
      } is not HOST:PORT or redis[s]://[user:pass@]host:port; e.g. 10.0.0.1:7000`,
    );
  }
  return url;
}
