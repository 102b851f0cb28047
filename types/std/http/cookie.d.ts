// Declarations for `@std/http/cookie` as shipped by the npm package
// deno-std@1.4.0 (http/cookie.js), which has no types of its own.

/** A cookie, as `setCookie` writes it and `getSetCookies` reads it. */
export interface Cookie {
  name: string;
  value: string;
  expires?: Date | number;
  maxAge?: number;
  domain?: string;
  path?: string;
  secure?: boolean;
  httpOnly?: boolean;
  partitioned?: boolean;
  sameSite?: "Strict" | "Lax" | "None";
  unparsed?: string[];
}

/** The cookies of a request's `Cookie` header, by name. */
export function getCookies(headers: Headers): Record<string, string>;
/** Appends a `Set-Cookie` header. */
export function setCookie(headers: Headers, cookie: Cookie): void;
/** Appends a `Set-Cookie` header that expires the cookie `name`. */
export function deleteCookie(
  headers: Headers,
  name: string,
  attributes?: Pick<Cookie, "path" | "domain" | "secure" | "httpOnly" | "partitioned">,
): void;
/** The cookies of a response's `Set-Cookie` headers. */
export function getSetCookies(headers: Headers): Cookie[];
