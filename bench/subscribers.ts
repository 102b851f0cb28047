/**
 * Many SSE subscribers over raw TCP sockets (HTTP/1.1), each parsing only the
 * `data: <seq>` numbers out of its stream, so one process can hold tens of
 * thousands of them and time every (message, subscriber) delivery against
 * the moment the message was sent.
 *
 * @module
 */

import net from "node:net";
import { Samples } from "./stats.ts";

const DATA = [100, 97, 116, 97, 58, 32]; // "data: "
const D = 100; // "d"
const HEAD_OK = [...new TextEncoder().encode("HTTP/1.1 200")];

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
  readonly #sockets: net.Socket[] = [];
  readonly #hostname: string;
  readonly #port: number;

  constructor(hostname: string, port: number) {
    this.#hostname = hostname;
    this.#port = port;
  }

  get size(): number {
    return this.#sockets.length;
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

  /**
   * One subscriber on a `node:net` socket: its reads arrive as callbacks from
   * the runtime's native stream, several times cheaper than awaiting
   * `Deno.Conn.read` per socket, so the generator keeps up with the server.
   */
  #openOne(path: string, read: boolean): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: this.#hostname, port: this.#port });
      this.#sockets.push(socket);
      const state: ParseState = { match: 0, seq: -1 };
      let answered = false;
      const answer = (ok: boolean) => {
        if (answered) return;
        answered = true;
        if (!ok) this.failed++;
        resolve();
      };
      socket.setNoDelay(true);
      socket.on("connect", () =>
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${this.#hostname}:${this.#port}\r\nAccept: text/event-stream\r\n\r\n`,
        ));
      socket.on("data", (chunk: Uint8Array) => {
        if (!answered) {
          const ok = HEAD_OK.every((byte, i) => chunk[i] === byte);
          answer(ok);
          if (!ok) return void socket.destroy();
          if (!read) return void socket.pause();
        }
        this.#scan(chunk, chunk.length, state);
      });
      socket.on("error", () => answer(false));
      socket.on("close", () => answer(false));
    });
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
    for (const socket of this.#sockets.splice(0)) socket.destroy();
  }
}
