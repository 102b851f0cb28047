/**
 * A real Redis Cluster for tests: masters (and optional replicas) on free
 * loopback ports, each node in its own temporary directory, stopped and
 * cleaned up on dispose. A test can ask which master serves a key and kill it
 * to force a failover. When the binaries are missing, `redisMissing` (from
 * services.ts) says why and the tests that need them are skipped.
 *
 * @module
 */

import { freePort } from "./services.ts";

export { redisMissing } from "./services.ts";

/** Bound on one `redis-cli` call. */
const CLI_TIMEOUT_MS = 5_000;
/** Bound on the cluster becoming ready (every node up, slots covered, replicas linked). */
const START_TIMEOUT_MS = 20_000;
/** Bound on a failover (node timeout 1 s + election + propagation). */
const FAILOVER_TIMEOUT_MS = 15_000;
/** How long a node has to exit after SIGTERM before it gets SIGKILL. */
const STOP_GRACE_MS = 2_000;
/** Milliseconds a node may be unreachable before the cluster marks it failed. */
const NODE_TIMEOUT_MS = 1_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One node (master or replica) of a test cluster. */
export interface ClusterNode {
  readonly port: number;
  /** Runs `redis-cli` (without `-c`) against this node and returns its trimmed output. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILLs the node (a crash) and waits for it to exit. */
  kill(): Promise<void>;
  /** SIGSTOPs the node (a hung host: its connections stay open and silent) until it is stopped. */
  freeze(): void;
  /** False once the node was killed, frozen or stopped. */
  readonly alive: boolean;
}

/** A Redis Cluster owned by a test. */
export interface RedisCluster extends AsyncDisposable {
  readonly nodes: readonly ClusterNode[];
  /** "127.0.0.1:p1,127.0.0.1:p2,..." of the masters at start: the value for a `--redis-cluster` flag. */
  readonly seeds: string;
  /** Ports of the nodes that are masters now, as a live node sees it (failed masters left out). */
  masters(): Promise<number[]>;
  /** The port of the master that serves `key`'s hash slot now, as a live node sees it. */
  masterOf(key: string): Promise<number>;
  /**
   * SIGKILLs (or, with `"freeze"`, SIGSTOPs: a hung host) the master of
   * `key`'s slot and resolves once every live node agrees that a live
   * replica took the slot over and says `cluster_state:ok`.
   * Throws after 15 s with what it last saw.
   */
  failover(key: string, how?: "kill" | "freeze"): Promise<{ killed: number; promoted: number }>;
  /** Stops every node (SIGTERM, then SIGKILL after 2 s) and removes their directories. */
  stop(): Promise<void>;
}

/** Runs `redis-cli` against `port`, bounded by `CLI_TIMEOUT_MS`; stdout trimmed, stderr dropped. */
async function cliOn(port: number, args: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", "-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
    signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** `count` distinct free loopback ports, picked before anything starts. */
function freePorts(count: number): number[] {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(freePort());
  return [...ports];
}

/** One line of `CLUSTER NODES`. */
interface NodeLine {
  readonly id: string;
  readonly port: number;
  readonly flags: readonly string[];
  /** The master's id for a replica, "-" for a master. */
  readonly masterId: string;
  /** Slot ranges served, as [first, last] (importing/migrating entries left out). */
  readonly slots: readonly (readonly [number, number])[];
}

/** Parses `CLUSTER NODES` output (`id ip:port@cport flags master ping pong epoch link slots...`). */
function parseNodes(text: string): NodeLine[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(" ");
    const port = Number(address.split("@")[0].split(":").at(-1));
    return {
      id,
      port,
      flags: flags.split(","),
      masterId,
      slots: slots.filter((s) => !s.startsWith("[")).map((s) => {
        const [first, last = first] = s.split("-").map(Number);
        return [first, last] as const;
      }),
    };
  });
}

const failed = (node: NodeLine) =>
  node.flags.includes("fail") || node.flags.includes("fail?") || node.flags.includes("noaddr");

/** The port of the non-failed master that serves `slot` in `nodes`, or undefined. */
function masterOfSlot(nodes: readonly NodeLine[], slot: number): number | undefined {
  return nodes.find((n) =>
    n.flags.includes("master") && !failed(n) &&
    n.slots.some(([first, last]) => first <= slot && slot <= last)
  )?.port;
}

/** A running `redis-server` cluster node. */
class Node implements ClusterNode {
  #child: Deno.ChildProcess | undefined;
  #frozen = false;

  constructor(readonly port: number, readonly dir: string, busPort: number) {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--cluster-enabled",
        "yes",
        "--cluster-port",
        String(busPort),
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        String(NODE_TIMEOUT_MS),
        "--cluster-announce-ip",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        dir,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
  }

  get alive(): boolean {
    return this.#child !== undefined && !this.#frozen;
  }

  freeze(): void {
    this.#frozen = true;
    this.#child?.kill("SIGSTOP");
  }

  cli(...args: string[]): Promise<string> {
    return cliOn(this.port, args);
  }

  kill(): Promise<void> {
    return this.#end(0);
  }

  /** Stops the node: SIGTERM, then SIGKILL after `graceMs` (at once when 0). */
  async #end(graceMs: number): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    const signal = (name: Deno.Signal) => {
      try {
        child.kill(name);
      } catch {
        // already exited
      }
    };
    if (graceMs > 0) {
      signal("SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), graceMs)),
      ]);
      clearTimeout(timer);
      if (exited) return;
    }
    signal("SIGKILL");
    await child.status;
  }

  stop(): Promise<void> {
    return this.#end(STOP_GRACE_MS);
  }
}

/** Waits until `check` returns a value (not undefined) or throws after `timeoutMs` with `describe()`. */
async function waitUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  describe: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what} not within ${timeoutMs} ms; last seen: ${describe()}`);
    }
    await sleep(50);
  }
}

/**
 * Starts a Redis Cluster of `masters` masters (default 3, at least 3) with
 * `replicasPerMaster` replicas each (default 0) on free loopback ports, and
 * resolves once every node says `cluster_state:ok`, knows every other node,
 * and every replica's link to its master is up. Use with `await using`.
 */
export async function startRedisCluster(
  options: { masters?: number; replicasPerMaster?: number } = {},
): Promise<RedisCluster> {
  const masterCount = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 0;
  if (!Number.isInteger(masterCount) || masterCount < 3) {
    throw new Error(
      `masters must be an integer >= 3 (redis-cli --cluster create), got ${masterCount}`,
    );
  }
  if (!Number.isInteger(replicas) || replicas < 0) {
    throw new Error(`replicasPerMaster must be an integer >= 0, got ${replicas}`);
  }
  const total = masterCount * (1 + replicas);
  const ports = freePorts(total * 2);
  const nodes: Node[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(
      nodes.map((node) => Deno.remove(node.dir, { recursive: true }).catch(() => {})),
    );
  };
  const live = () => nodes.filter((node) => node.alive);
  /** `CLUSTER NODES` as the first live node that answers sees it. */
  const clusterNodes = async (): Promise<NodeLine[]> => {
    for (const node of live()) {
      const text = await node.cli("CLUSTER", "NODES").catch(() => "");
      if (text.includes("myself")) return parseNodes(text);
    }
    throw new Error(`no live cluster node answers CLUSTER NODES (ports ${ports.slice(0, total)})`);
  };
  const slotOf = async (key: string): Promise<number> => {
    const [node] = live();
    const slot = Number(await node?.cli("CLUSTER", "KEYSLOT", key));
    if (!Number.isInteger(slot)) throw new Error(`CLUSTER KEYSLOT ${key} failed: no live node`);
    return slot;
  };

  let seeds: string;
  try {
    for (let i = 0; i < total; i++) {
      const dir = await Deno.makeTempDir({ prefix: `sse-hub-redis-cluster-${ports[i]}-` });
      nodes.push(new Node(ports[i], dir, ports[total + i]));
    }
    let lastSeen = "nothing yet";
    const describe = () => lastSeen;
    const deadline = Date.now() + START_TIMEOUT_MS;
    const remaining = () => Math.max(1, deadline - Date.now());
    await waitUntil("every cluster node answers PING", remaining(), async () => {
      const answers = await Promise.all(nodes.map((node) => node.cli("PING")));
      lastSeen = answers.map((a, i) => `${ports[i]}: ${a || "(no answer)"}`).join(", ");
      return answers.every((a) => a === "PONG") || undefined;
    }, describe);
    const create = await new Deno.Command("redis-cli", {
      args: [
        "--cluster",
        "create",
        ...nodes.map((node) => `127.0.0.1:${node.port}`),
        "--cluster-replicas",
        String(replicas),
        "--cluster-yes",
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(remaining()),
    }).output();
    if (!create.success) {
      const text = new TextDecoder().decode(create.stdout) +
        new TextDecoder().decode(create.stderr);
      throw new Error(`redis-cli --cluster create failed (${create.code}):\n${text}`);
    }
    await waitUntil("the cluster is ready", remaining(), async () => {
      const states = await Promise.all(nodes.map(async (node) => {
        const info = await node.cli("CLUSTER", "INFO");
        const ok = info.includes("cluster_state:ok") &&
          info.includes(`cluster_known_nodes:${total}`);
        const replication = await node.cli("INFO", "replication");
        const linked = !replication.includes("role:slave") ||
          replication.includes("master_link_status:up");
        return { port: node.port, ok, linked };
      }));
      lastSeen = states.map((s) =>
        `${s.port}: ${s.ok ? "ok" : "not ok"}` +
        (s.linked ? "" : " (replica not linked)")
      ).join(", ");
      return states.every((s) => s.ok && s.linked) || undefined;
    }, describe);
    const view = await clusterNodes();
    seeds = view.filter((n) => n.flags.includes("master")).map((n) => `127.0.0.1:${n.port}`)
      .join(",");
  } catch (error) {
    await stop();
    throw error;
  }

  const masters = async () =>
    (await clusterNodes()).filter((n) => n.flags.includes("master") && !failed(n)).map((n) =>
      n.port
    ).sort((a, b) => a - b);

  const masterOf = async (key: string) => {
    const slot = await slotOf(key);
    const port = masterOfSlot(await clusterNodes(), slot);
    if (port === undefined) throw new Error(`no live master serves slot ${slot} (key ${key})`);
    return port;
  };

  const failover = async (key: string, how: "kill" | "freeze" = "kill") => {
    const slot = await slotOf(key);
    const view = await clusterNodes();
    const killed = masterOfSlot(view, slot);
    const master = nodes.find((node) => node.port === killed);
    if (!master) throw new Error(`no live master serves slot ${slot} (key ${key})`);
    const masterId = view.find((n) => n.port === killed)?.id;
    if (!view.some((n) => n.masterId === masterId && !failed(n))) {
      throw new Error(
        `master ${killed} of key ${key} has no live replica: start the cluster with replicasPerMaster >= 1`,
      );
    }
    if (how === "kill") await master.kill();
    else master.freeze();
    let lastSeen = "nothing yet";
    const promoted = await waitUntil(
      `a replica of ${killed} takes over slot ${slot}`,
      FAILOVER_TIMEOUT_MS,
      async () => {
        const seen = await Promise.all(
          live().map(async (node) => {
            const ok = (await node.cli("CLUSTER", "INFO")).includes("cluster_state:ok");
            const owner = masterOfSlot(parseNodes(await node.cli("CLUSTER", "NODES")), slot);
            return { port: node.port, ok, owner };
          }),
        );
        lastSeen = seen.map((s) =>
          `${s.port}: ${s.ok ? "ok" : "not ok"}, slot ${slot} on ${s.owner ?? "nobody"}`
        ).join("; ");
        const owner = seen[0]?.owner;
        const settled = owner !== undefined && owner !== killed &&
          live().some((node) => node.port === owner) &&
          seen.every((s) => s.ok && s.owner === owner);
        return settled ? owner : undefined;
      },
      () => lastSeen,
    );
    return { killed: master.port, promoted };
  };

  return {
    nodes,
    seeds,
    masters,
    masterOf,
    failover,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
