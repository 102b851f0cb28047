/**
 * `deno task bench`: runs the load scenarios against sse-hub (each transport)
 * and, with `--vs nchan`, against nginx's nchan on the same machine, and
 * prints the measurements as Markdown tables with sse-hub/nchan ratios.
 *
 *   deno task bench [--transport serve|node|default|cluster|both|all[,…]] [--scenario NAME] [--quick]
 *                   [--vs nchan] [--json FILE]
 *
 * @module
 */

import { parseArgs } from "@std/cli/parse-args";
import {
  clusterMissing,
  clusterPlan,
  printCluster,
  runCluster,
  startSseHubOnCluster,
} from "./cluster.ts";
import { pinSelf } from "./targets.ts";
import {
  cyclone,
  type Metrics,
  oneChannel,
  type Scenario,
  slowSubscriber,
  tokens,
} from "./scenarios.ts";
import { findNchan, SHIPPED_V8_FLAGS, startNchan, startSseHub, type Target } from "./targets.ts";

const USAGE =
  `Usage: deno task bench [--transport serve|node|default|cluster|both|all[,…]] [--scenario NAME]
                       [--quick] [--vs nchan] [--json FILE]
       deno task bench --scenario cluster [--quick] [--json FILE]`;

function fail(message: string): never {
  console.error(`bench: ${message}\n${USAGE}`);
  Deno.exit(2);
}

const flags = parseArgs(Deno.args, {
  string: ["transport", "scenario", "vs", "json"],
  boolean: ["quick", "help"],
  default: { transport: "both" },
  unknown: (arg: string) => fail(`unknown option ${arg}`),
}) as {
  transport: string;
  scenario?: string;
  vs?: string;
  json?: string;
  quick: boolean;
  help: boolean;
};

if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const kinds = flags.transport.split(",");
for (const kind of kinds) {
  if (!["serve", "node", "default", "cluster", "both", "all"].includes(kind)) {
    fail(
      `--transport takes serve, node, default, cluster, both or all (comma-separated), not "${kind}"`,
    );
  }
}
if (flags.vs !== undefined && flags.vs !== "nchan") {
  fail(`--vs only knows nchan, not "${flags.vs}"`);
}

if (flags.scenario === "cluster") {
  if (flags.vs !== undefined) fail("--vs nchan has no cluster scenario");
  console.log(`# sse-hub benchmark, ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(`command: deno task bench ${Deno.args.join(" ")}\n`);
  const missing = clusterMissing();
  if (missing) {
    console.log(`> cluster scenario skipped: ${missing}\n`);
    Deno.exit(0);
  }
  const plan = clusterPlan(flags.quick);
  const results = await runCluster(plan);
  printCluster(plan, results);
  if (flags.json) {
    await Deno.writeTextFile(
      flags.json,
      JSON.stringify({ date: new Date().toISOString(), machine: machine(), results }, null, 2),
    );
    console.log(`results written to ${flags.json}`);
  }
  Deno.exit(results.some((r) => "error" in r.metrics) ? 1 : 0);
}

const scenarios: Scenario[] = flags.quick
  ? [oneChannel(1000, 10), tokens(1000, 10), cyclone(800, 10), slowSubscriber(200, 800)]
  : [
    oneChannel(1000, 20),
    oneChannel(10_000, 20, true),
    oneChannel(19_800, 20, true),
    tokens(2000, 20),
    cyclone(3600, 20),
    slowSubscriber(1000, 1000),
  ];
const chosen = flags.scenario
  ? scenarios.filter((s) => s.name.startsWith(flags.scenario!))
  : scenarios;
if (chosen.length === 0) {
  const names = [...scenarios.map((s) => s.name), "cluster"].join(", ");
  fail(`no scenario named ${flags.scenario}; there are ${names}`);
}

type Starter = () => Promise<Target>;
const targets: [string, Starter][] = [];
/** "all" is every transport on the memory broker; "cluster" (a Redis Cluster broker) only by name. */
const runs = (kind: string) =>
  kinds.includes(kind) || (kinds.includes("all") && kind !== "cluster") ||
  (kinds.includes("both") && (kind === "serve" || kind === "node"));
if (runs("serve")) targets.push(["sse-hub serve", () => startSseHub("serve")]);
if (runs("node")) targets.push(["sse-hub node", () => startSseHub("node")]);
if (runs("default")) targets.push(["sse-hub default", () => startSseHub("default")]);
if (runs("cluster")) {
  const missing = clusterMissing();
  if (missing) console.log(`\n> sse-hub cluster skipped: ${missing}\n`);
  else targets.push(["sse-hub cluster", startSseHubOnCluster]);
}
if (flags.vs === "nchan") {
  const nchan = findNchan();
  if ("missing" in nchan) console.log(`\n> nchan skipped: ${nchan.missing}\n`);
  else targets.push(["nchan", () => startNchan(nchan.module)]);
}

function machine(): string {
  const cpu = Deno.readTextFileSync("/proc/cpuinfo").match(/^model name\s*:\s*(.+)$/m)?.[1];
  const memKb = Number(Deno.readTextFileSync("/proc/meminfo").match(/^MemTotal:\s+(\d+)/m)?.[1]);
  return `${navigator.hardwareConcurrency} × ${cpu ?? "unknown CPU"}, ${
    (memKb / 1024 / 1024).toFixed(0)
  } GiB, Deno ${Deno.version.deno}`;
}

function format(value: number | string | undefined, metric: string): string {
  if (value === undefined) return "–";
  if (typeof value === "string") return value;
  if (Number.isNaN(value)) return "incomplete";
  if (/µs/.test(metric)) return value.toFixed(2);
  if (/KB|ms|%/.test(metric)) return value.toFixed(1);
  return String(Math.round(value));
}

const pinned = pinSelf();
console.log(`# sse-hub benchmark, ${new Date().toISOString()}`);
console.log(`machine: ${machine()}`);
console.log(`command: deno task bench ${Deno.args.join(" ")}`);
console.log(
  `sse-hub runs as deployed (deno task start): ${SHIPPED_V8_FLAGS.join(" ") || "no V8 flags"}`,
);
console.log(
  `servers pinned to CPU 0, generator ${
    pinned ? "pinned to CPU 1" : "not pinned (no taskset)"
  }; loopback only\n`,
);

const results: { scenario: string; target: string; metrics: Metrics }[] = [];
for (const scenario of chosen) {
  const row: Record<string, Metrics> = {};
  for (const [name, start] of targets) {
    const target = await start();
    try {
      row[name] = await scenario.run(target);
    } catch (error) {
      row[name] = { error: String(error) };
    } finally {
      await target.stop();
    }
    results.push({ scenario: scenario.name, target: name, metrics: row[name] });
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const names = targets.map(([name]) => name);
  const ratios = flags.vs === "nchan" && "nchan" in row ? names.filter((n) => n !== "nchan") : [];
  const metrics = [...new Set(Object.values(row).flatMap((m) => Object.keys(m)))];
  console.log(`## ${scenario.name}: ${scenario.description}\n`);
  console.log(
    `| metric | ${names.join(" | ")} |${
      ratios.map((n) => ` ${n.replace("sse-hub ", "")}/nchan |`).join("")
    }`,
  );
  console.log(`|---|${names.map(() => "---:|").join("")}${ratios.map(() => "---:|").join("")}`);
  for (const metric of metrics) {
    const cells = names.map((n) => format(row[n][metric], metric));
    const ratioCells = ratios.map((n) => {
      const a = row[n][metric];
      const b = row.nchan[metric];
      return typeof a === "number" && typeof b === "number" && b !== 0 &&
          /ms|KB|µs|deliveries\/s/.test(metric)
        ? `${(a / b).toFixed(2)}×`
        : "";
    });
    console.log(`| ${metric} | ${cells.join(" | ")} |${ratioCells.map((c) => ` ${c} |`).join("")}`);
  }
  console.log();
}

if (flags.json) {
  await Deno.writeTextFile(
    flags.json,
    JSON.stringify({ date: new Date().toISOString(), machine: machine(), results }, null, 2),
  );
  console.log(`results written to ${flags.json}`);
}
