/**
 * A growable list of samples with percentiles.
 *
 * @module
 */

/** Latency samples in milliseconds. */
export class Samples {
  #values = new Float64Array(1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  clear(): void {
    this.#length = 0;
  }

  add(value: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = value;
  }

  /** The `p`-th percentile (0–100), nearest-rank; NaN when empty. */
  percentile(p: number): number {
    if (this.#length === 0) return NaN;
    const sorted = this.#values.slice(0, this.#length).sort();
    const rank = Math.min(this.#length - 1, Math.max(0, Math.ceil((p / 100) * this.#length) - 1));
    return sorted[rank];
  }

  max(): number {
    return this.percentile(100);
  }
}

/** The median of a few numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
