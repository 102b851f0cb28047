// Declarations for `@std/streams/text-line-stream` as shipped by the npm
// package deno-std@1.4.0 (streams/text_line_stream.js), which has no types of its own.

/** Options of {@linkcode TextLineStream}. */
export interface TextLineStreamOptions {
  /** Also end lines at a lone `\r`. */
  allowCR?: boolean;
}

/** Splits a stream of text into lines (without their `\n` or `\r\n`). */
export class TextLineStream extends TransformStream<string, string> {
  constructor(options?: TextLineStreamOptions);
}
