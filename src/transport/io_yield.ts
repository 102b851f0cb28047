/**
 * A way for a long run of JavaScript work to let Deno read its sockets.
 *
 * `setImmediate` and `MessageChannel` yield to JavaScript but not to the
 * network: while the event loop always has more to do, Deno's runtime polls
 * its socket readiness (epoll) only every ~60 turns, so a request that
 * arrives during a 100 ms fan-out waits for its end. A timer does let the
 * sockets be polled, but costs 1–2.5 ms per yield (the timer wheel's
 * granularity; denoland/deno#28016). One byte written to a loopback socket
 * pair and read back does too, for about 0.1 ms: the read can only complete
 * after the runtime has polled its sockets, which serves everything else
 * that was ready meanwhile.
 *
 * @example
 * ```ts
 * import { IoYield } from "./io_yield.ts";
 * using io = await IoYield.open();
 * await io.wait(); // sockets were polled meanwhile
 * ```
 *
 * @module
 */

import { setImmediate } from "node:timers";

const ONE_BYTE = new Uint8Array(1);

/** Resolves after `setImmediate`: a yield to JavaScript only (see above). */
export function immediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields to socket I/O through a loopback socket pair; falls back to `setImmediate`. */
export class IoYield implements Disposable {
  readonly #pair?: { writer: Deno.Conn; reader: Deno.Conn };
  readonly #buffer = new Uint8Array(64);

  private constructor(pair?: { writer: Deno.Conn; reader: Deno.Conn }) {
    this.#pair = pair;
  }

  /** Opens the socket pair; without network permission, yields by `setImmediate` instead. */
  static async open(): Promise<IoYield> {
    let listener: Deno.TcpListener | undefined;
    try {
      listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const writer = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
      const reader = await listener.accept();
      writer.setNoDelay(true);
      return new IoYield({ writer, reader });
    } catch {
      return new IoYield();
    } finally {
      listener?.close();
    }
  }

  /** Resolves after the runtime had a chance to serve ready sockets. */
  async wait(): Promise<void> {
    if (!this.#pair) return immediate();
    await this.#pair.writer.write(ONE_BYTE);
    await this.#pair.reader.read(this.#buffer);
  }

  [Symbol.dispose](): void {
    this.#pair?.writer.close();
    this.#pair?.reader.close();
  }
}
