/**
 * Many SSE subscribers over raw TCP sockets (HTTP/1.1), each parsing only the
 * `data: <seq>` numbers out of its stream, so one process can hold tens of
 * thousands of them and time every (message, subscriber) delivery against
 * the moment the message was sent.
 *
 * @module
 */

import { Samples } from "./stats.ts";

const DATA = [100, 97, 116, 97, 58, 32]; // "data: "
const D = 100; // "d"

interface ParseState {
  match: number; // how much of "data: " has been seen
  seq: number; // digits read so far, -1 when not in a number
}

/** A pool of raw-socket SSE subscribers on one server. */
export class SubscriberPool {
  readonly latencies = new Samples();
  /** Deliveries counted per message sequence number. */
  readonly counts: number[] = [];
  /** When each message was sent (performance.now()); NaN while expected but not yet known. */
  readonly sentAt: number[] = [];
  /** Arrival times of messages whose send time is not known yet (sent from a worker). */
  readonly #early = new Map<number, number[]>();
  /** Time of the last delivery seen. */
  lastDelivery = 0;
  failed = 0;
  ended = 0;
  readonly #conns: Deno.TcpConn[] = [];
  readonly #hostname: string;
  readonly #port: number;

  constructor(hostname: string, port: number) {
    this.#hostname = hostname;
    this.#port = port;
  }

  get size(): number {
    return this.#conns.length;
  }

  /**
   * Opens `count` subscribers, `concurrency` at a time; `path(i)` is the
   * request path of the i-th. A subscriber with `read: false` never reads.
   * Resolves with the elapsed milliseconds once each has its response head.
   */
  async open(
    count: number,
    path: (i: number) => string,
    options: { concurrency?: number; read?: boolean } = {},
  ): Promise<number> {
    const started = performance.now();
    const concurrency = options.concurrency ?? 200;
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        await this.#openOne(path(i), options.read ?? true);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return performance.now() - started;
  }

  async #openOne(path: string, read: boolean): Promise<void> {
    const conn = await Deno.connect({ hostname: this.#hostname, port: this.#port });
    this.#conns.push(conn);
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${this.#hostname}:${this.#port}\r\nAccept: text/event-stream\r\n\r\n`,
      ),
    );
    const buffer = new Uint8Array(read ? 4096 : 512);
    const n = await conn.read(buffer);
    const head = n === null ? "" : new TextDecoder().decode(buffer.subarray(0, Math.min(n, 16)));
    if (!head.startsWith("HTTP/1.1 200")) {
      this.failed++;
      return;
    }
    if (read) this.#pump(conn, buffer, buffer.subarray(0, n!));
  }

  async #pump(conn: Deno.TcpConn, buffer: Uint8Array, first: Uint8Array): Promise<void> {
    const state: ParseState = { match: 0, seq: -1 };
    this.#scan(first, first.length, state);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch {
        break;
      }
      if (n === null) break;
      this.#scan(buffer, n, state);
    }
    this.ended++;
  }

  #scan(bytes: Uint8Array, n: number, st: ParseState): void {
    for (let i = 0; i < n; i++) {
      const b = bytes[i];
      if (st.seq >= 0) {
        if (b >= 48 && b <= 57) {
          st.seq = st.seq * 10 + (b - 48);
          continue;
        }
        this.#deliver(st.seq);
        st.seq = -1;
      }
      if (st.match === 0) {
        const j = bytes.indexOf(D, i);
        if (j < 0 || j >= n) return;
        i = j;
        st.match = 1;
        continue;
      }
      if (b === DATA[st.match]) {
        if (++st.match === DATA.length) {
          st.match = 0;
          st.seq = 0;
        }
      } else {
        st.match = b === D ? 1 : 0;
      }
    }
  }

  /** Counts deliveries of `seq` from now on; its send time comes later with {@linkcode sent}. */
  expect(seq: number): void {
    this.sentAt[seq] = NaN;
  }

  /** Records when `seq` was sent (performance.now()), timing what arrived before this was known. */
  sent(seq: number, at: number): void {
    this.sentAt[seq] = at;
    for (const arrival of this.#early.get(seq) ?? []) this.latencies.add(arrival - at);
    this.#early.delete(seq);
  }

  #deliver(seq: number): void {
    const now = performance.now();
    const sent = this.sentAt[seq];
    if (sent === undefined) return; // not a numbered message
    if (Number.isNaN(sent)) {
      const early = this.#early.get(seq);
      if (early) early.push(now);
      else this.#early.set(seq, [now]);
    } else this.latencies.add(now - sent);
    this.counts[seq] = (this.counts[seq] ?? 0) + 1;
    this.lastDelivery = now;
  }

  /** Deliveries seen for message `seq`. */
  delivered(seq: number): number {
    return this.counts[seq] ?? 0;
  }

  closeAll(): void {
    for (const conn of this.#conns.splice(0)) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }
}
