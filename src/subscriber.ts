/**
 * What the hub needs from a connection: somewhere to write bytes, and a way to
 * end it. Transports (`src/transport/`) implement it; the hub never sees a
 * request, a response or a socket.
 *
 * @module
 */

/** Why a subscriber's stream ended, for logs and metrics. */
export type CloseReason =
  | "client" // the client went away
  | "slow" // its buffer passed --max-buffered; it reconnects and replays
  | "shutdown" // the server is stopping
  | "kicked" // closed on request (e.g. POST /disconnect)
  | "lifetime"; // --max-lifetime reached

/** One open subscriber stream. */
export interface Subscriber {
  /** Connection id, unique in this process. */
  readonly id: string;
  /** Channels this connection listens to (validated, de-duplicated). */
  readonly channels: readonly string[];
  /** The client's address, when the transport knows it (for per-address limits). */
  readonly remote?: string;
  /** What an embedding app attached to this subscriber (library API), if anything. */
  readonly properties?: unknown;
  /**
   * Writes bytes. A transport whose queue is already over its bound when
   * asked to write more closes itself with reason `"slow"` and tells the hub
   * through `onClose`.
   */
  write(bytes: Uint8Array): void;
  /**
   * Resolves once the transport's queue has room (at once when it has), or
   * when the stream closes. Replays wait on it between events, so
   * a long backlog is paced by the client instead of cutting it off.
   */
  ready(): Promise<void>;
  /** Ends the stream; idempotent. */
  close(reason: CloseReason): void;
  /** Set by the hub: called once when the stream ends, whoever ended it. */
  onClose?: (reason: CloseReason) => void;
}
