/**
 * Prometheus text exposition for sse-hub: a histogram type, and the
 * rendering of the hub's and the HTTP layer's counters.
 *
 * @module
 */

/** Upper bounds (seconds) of the publish-to-write latency buckets. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A cumulative histogram of seconds. */
export class Histogram {
  readonly bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    this.bounds = bounds;
    this.counts = new Array(bounds.length).fill(0);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (seconds <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  /** Exposition lines for `name`. */
  render(name: string): string[] {
    const lines = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i];
      lines.push(`${name}_bucket{le="${this.bounds[i]}"} ${cumulative}`);
    }
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${name}_sum ${this.sum}`);
    lines.push(`${name}_count ${this.count}`);
    return lines;
  }
}

/** Requests refused, by HTTP status. */
export class RejectedRequests {
  readonly #byStatus = new Map<number, number>();

  add(status: number): void {
    this.#byStatus.set(status, (this.#byStatus.get(status) ?? 0) + 1);
  }

  entries(): [number, number][] {
    return [...this.#byStatus].sort(([a], [b]) => a - b);
  }
}

/** A label value, escaped for the exposition format. */
export function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** One metric family: HELP, TYPE and its samples. */
export function family(
  name: string,
  type: "counter" | "gauge" | "histogram",
  help: string,
  samples: string[],
): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples].join("\n");
}
