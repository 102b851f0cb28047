// Declarations for `@std/assert` as shipped by the npm package deno-std@1.4.0
// (assert/mod.js), which has no types of its own. Written for sse-hub after
// std's documented API; only the signatures, no behaviour.

/** Thrown by every assertion below when it fails. */
export class AssertionError extends Error {
  constructor(message: string, options?: ErrorOptions);
}

/** A class whose instances an assertion expects. */
// deno-lint-ignore no-explicit-any
type AnyConstructor = abstract new (...args: any[]) => unknown;
/** Values JavaScript treats as false. */
type Falsy = false | 0 | 0n | "" | null | undefined;

/** Deep equality, as the assertions use it. */
export function equal(a: unknown, b: unknown): boolean;
/** Fails unless `expr` is truthy. */
export function assert(expr: unknown, msg?: string): asserts expr;
/** Fails unless `expr` is falsy. */
export function assertFalse(expr: unknown, msg?: string): asserts expr is Falsy;
/** Fails unless `actual` and `expected` are deeply equal. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void;
/** Fails if `actual` and `expected` are deeply equal. */
export function assertNotEquals<T>(actual: T, expected: T, msg?: string): void;
/** Fails unless `actual` and `expected` are the same value (`Object.is`). */
export function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T;
/** Fails if `actual` and `expected` are the same value (`Object.is`). */
export function assertNotStrictEquals<T>(actual: T, expected: T, msg?: string): void;
/** Fails unless the two numbers differ by at most `tolerance` (default 1e-7 of the larger). */
export function assertAlmostEquals(
  actual: number,
  expected: number,
  tolerance?: number,
  msg?: string,
): void;
/** Fails if `actual` is null or undefined. */
export function assertExists<T>(actual: T, msg?: string): asserts actual is NonNullable<T>;
/** Fails unless `actual` is an instance of `expectedType`. */
export function assertInstanceOf<T extends AnyConstructor>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T>;
/** Fails if `actual` is an instance of `unexpectedType`. */
export function assertNotInstanceOf<A, T>(
  actual: A,
  unexpectedType: abstract new (...args: never[]) => T,
  msg?: string,
): asserts actual is Exclude<A, T>;
/** Fails unless `error` is an Error (of `ErrorClass`, with a message containing or matching `msgMatches`). */
export function assertIsError<E extends Error = Error>(
  error: unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass?: abstract new (...args: any[]) => E,
  msgMatches?: string | RegExp,
  msg?: string,
): asserts error is E;
/** Fails unless `actual` contains every element of `expected`. */
export function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  msg?: string,
): void;
/** Fails unless `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void;
/** Fails unless `actual` matches `expected`. */
export function assertMatch(actual: string, expected: RegExp, msg?: string): void;
/** Fails if `actual` matches `expected`. */
export function assertNotMatch(actual: string, expected: RegExp, msg?: string): void;
/** Fails unless `actual` has every property of `expected`, with equal values. */
export function assertObjectMatch(
  // deno-lint-ignore no-explicit-any
  actual: Record<PropertyKey, any>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void;
/** Fails unless `actual > expected`. */
export function assertGreater<T>(actual: T, expected: T, msg?: string): void;
/** Fails unless `actual >= expected`. */
export function assertGreaterOrEqual<T>(actual: T, expected: T, msg?: string): void;
/** Fails unless `actual < expected`. */
export function assertLess<T>(actual: T, expected: T, msg?: string): void;
/** Fails unless `actual <= expected`. */
export function assertLessOrEqual<T>(actual: T, expected: T, msg?: string): void;
/** Fails unless `fn` throws; returns what it threw. */
export function assertThrows(fn: () => unknown, msg?: string): unknown;
/** Fails unless `fn` throws an `ErrorClass` whose message contains `msgIncludes`; returns it. */
export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
): E;
/** Fails unless the promise `fn` returns rejects; resolves with the reason. */
export function assertRejects(fn: () => PromiseLike<unknown>, msg?: string): Promise<unknown>;
/** Fails unless the promise `fn` returns rejects with an `ErrorClass` whose message contains `msgIncludes`. */
export function assertRejects<E extends Error = Error>(
  fn: () => PromiseLike<unknown>,
  // deno-lint-ignore no-explicit-any
  ErrorClass: abstract new (...args: any[]) => E,
  msgIncludes?: string,
  msg?: string,
): Promise<E>;
/** Always fails. */
export function fail(msg?: string): never;
/** Fails, marking code that is not written yet. */
export function unimplemented(msg?: string): never;
/** Fails, marking code that should never run. */
export function unreachable(msg?: string): never;
