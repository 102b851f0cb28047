import { assertEquals } from "@std/assert";
import { corsHeaders, preflight } from "../../src/http/cors.ts";

Deno.test("a listed origin is echoed back with credentials allowed", () => {
  const headers = corsHeaders(["https://a.example"], "https://a.example");
  assertEquals(headers["access-control-allow-origin"], "https://a.example");
  assertEquals(headers["access-control-allow-credentials"], "true");
  assertEquals(headers.vary, "Origin");
});

Deno.test("an unlisted origin gets no allow-origin header", () => {
  const headers = corsHeaders(["https://a.example"], "https://evil.example");
  assertEquals(headers["access-control-allow-origin"], undefined);
  assertEquals(headers["access-control-allow-credentials"], undefined);
});

Deno.test("a star allows any origin without credentials", () => {
  const headers = corsHeaders(["*"], "https://any.example");
  assertEquals(headers["access-control-allow-origin"], "*");
  assertEquals(headers["access-control-allow-credentials"], undefined);
});

Deno.test("a preflight answers 204 with methods and the auth headers allowed", async () => {
  const response = preflight(["https://a.example"], "https://a.example", ["GET", "OPTIONS"]);
  assertEquals(response.status, 204);
  assertEquals(response.headers.get("access-control-allow-origin"), "https://a.example");
  assertEquals(response.headers.get("access-control-allow-methods"), "GET, OPTIONS");
  const allowHeaders = response.headers.get("access-control-allow-headers") ?? "";
  assertEquals(allowHeaders.includes("Authorization"), true);
  assertEquals(allowHeaders.includes("Last-Event-ID"), true);
  await response.body?.cancel();
});
