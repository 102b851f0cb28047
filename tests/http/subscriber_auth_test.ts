import { assertEquals, assertStringIncludes, assertThrows } from "@std/assert";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { loadConfig } from "../../src/config/load.ts";
import { ConfigError } from "../../src/errors.ts";
import { startTestServer, type TestServer } from "../_helpers/server.ts";

const SECRET = "a-long-enough-test-secret-for-hs256";

async function hs256(claims: Record<string, unknown>, expires = "1h", secret = SECRET) {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(new TextEncoder().encode(secret));
}

/** Opens a subscribe request and returns its status and, for errors, the reason. */
async function subscribeStatus(t: TestServer, query: string, headers: HeadersInit = {}) {
  const response = await fetch(`${t.origin}/?${query}`, { headers });
  const error = response.status >= 400 ? (await response.json()).error as string : "";
  await response.body?.cancel().catch(() => {});
  return { status: response.status, error };
}

const privateServer = () =>
  startTestServer({ private: ["private.*", "user.*"], jwtSecret: SECRET, authCookie: "sse_token" });

Deno.test("public channels need no token when some channels are private", async () => {
  await using t = await privateServer();
  assertEquals((await subscribeStatus(t, "channels=news")).status, 200);
});

Deno.test("a private channel without a token gets 401 saying how to send one", async () => {
  await using t = await privateServer();
  const { status, error } = await subscribeStatus(t, "channels=news,private.board");
  assertEquals(status, 401);
  assertStringIncludes(error, '"private.board" is private');
  assertStringIncludes(error, "Authorization: Bearer");
});

Deno.test("a token granting the channel opens it, from a header, ?token= or the cookie", async () => {
  await using t = await privateServer();
  const token = await hs256({ channels: ["private.*"] });
  assertEquals(
    (await subscribeStatus(t, "channels=private.board", { authorization: `Bearer ${token}` }))
      .status,
    200,
  );
  assertEquals((await subscribeStatus(t, `channels=private.board&token=${token}`)).status, 200);
  assertEquals(
    (await subscribeStatus(t, "channels=private.board", { cookie: `sse_token=${token}` })).status,
    200,
  );
});

Deno.test("a valid token that does not grant the channel gets 403", async () => {
  await using t = await privateServer();
  const token = await hs256({ channels: ["private.team1"] });
  const { status, error } = await subscribeStatus(t, `channels=private.team2&token=${token}`);
  assertEquals(status, 403);
  assertStringIncludes(error, "private.team2");
});

Deno.test("a token's subject grants its own user.<sub> channel and no one else's", async () => {
  await using t = await privateServer();
  const token = await hs256({ sub: "42" });
  assertEquals((await subscribeStatus(t, `channels=user.42&token=${token}`)).status, 200);
  assertEquals((await subscribeStatus(t, `channels=user.43&token=${token}`)).status, 403);
});

Deno.test("expired, badly signed and malformed tokens get 401 with the reason", async () => {
  await using t = await privateServer();
  const expired = await hs256({ channels: ["private.*"] }, "-1m");
  const forged = await hs256({ channels: ["private.*"] }, "1h", "another-secret-of-enough-length");
  const cases: [string, string][] = [
    [expired, "expired"],
    [forged, "signature is invalid"],
    ["not.a.jwt", "malformed"],
  ];
  for (const [token, reason] of cases) {
    const { status, error } = await subscribeStatus(t, `channels=private.x&token=${token}`);
    assertEquals(status, 401, reason);
    assertStringIncludes(error, reason);
  }
});

Deno.test("ES256 tokens verify against a PEM public key file", async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const file = await Deno.makeTempFile({ suffix: ".pem" });
  try {
    await Deno.writeTextFile(file, await exportSPKI(publicKey));
    await using t = await startTestServer({ private: ["private.*"], jwtPublicKey: file });
    const token = await new SignJWT({ channels: ["private.*"] })
      .setProtectedHeader({ alg: "ES256" })
      .setExpirationTime("1h")
      .sign(privateKey);
    assertEquals((await subscribeStatus(t, `channels=private.a&token=${token}`)).status, 200);
    const hs = await hs256({ channels: ["private.*"] });
    assertEquals((await subscribeStatus(t, `channels=private.a&token=${hs}`)).status, 401);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("long-polls of private channels are checked the same way", async () => {
  await using t = await startTestServer({
    private: ["private.*"],
    jwtSecret: SECRET,
    pollTimeoutMs: 50,
  });
  assertEquals((await subscribeStatus(t, "channels=private.a&transport=poll")).status, 401);
  const token = await hs256({ channels: ["private.a"] });
  assertEquals(
    (await subscribeStatus(t, `channels=private.a&transport=poll&token=${token}`)).status,
    200,
  );
});

Deno.test("--private without a key to check tokens is a configuration error", () => {
  assertThrows(
    () => loadConfig({ args: ["--private", "private.*"], env: {} }),
    ConfigError,
    "--jwt-secret or --jwt-public-key",
  );
});

Deno.test("a publisher may present a JWT instead of the publish key; its publish claim must grant the channels", async () => {
  await using t = await startTestServer({ publishKey: "the-key", jwtSecret: SECRET });
  const post = (credential: string, channel: string) =>
    fetch(`${t.origin}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${credential}` },
      body: JSON.stringify({ channel, data: "x" }),
    }).then(async (r) => ({ status: r.status, error: (await r.json()).error as string }));
  const publisher = await hs256({ publish: ["news.*"] });
  assertEquals((await post(publisher, "news.local")).status, 200);
  const denied = await post(publisher, "sport");
  assertEquals(denied.status, 403);
  assertStringIncludes(denied.error, '"sport"');
  assertEquals((await post(await hs256({ publish: ["news.*"] }, "-1m"), "news.a")).status, 401);
  assertEquals((await post("the-key", "sport")).status, 200);
  assertEquals((await post("wrong-key", "sport")).status, 401);
});

Deno.test("with --publish-rate, forged publish tokens count against the client address, valid ones keep their own bucket", async () => {
  await using t = await startTestServer({
    publishKey: "the-key",
    jwtSecret: SECRET,
    publishRate: 2,
  });
  const post = async (credential: string) => {
    const response = await fetch(`${t.origin}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${credential}` },
      body: JSON.stringify({ channel: "news", data: "x" }),
    });
    await response.body?.cancel();
    return response.status;
  };
  const forged = await hs256({ publish: ["*"] }, "1h", "another-secret-of-enough-length");
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) statuses.push(await post(forged));
  assertEquals(statuses.slice(0, 2), [401, 401]);
  assertEquals(statuses.at(-1), 429);
  assertEquals(await post(await hs256({ publish: ["news"] })), 200);
});

Deno.test("a token without a subject grants no user.* channel", async () => {
  await using t = await privateServer();
  const token = await hs256({ channels: ["private.team1"] });
  for (const channel of ["user.undefined", "user.", "user.42"]) {
    const { status, error } = await subscribeStatus(t, `channels=${channel}&token=${token}`);
    assertEquals(status, 403, channel);
    assertStringIncludes(error, JSON.stringify(channel));
  }
});

Deno.test("a token without exp is accepted: it never expires", async () => {
  await using t = await privateServer();
  const token = await new SignJWT({ channels: ["private.*"] })
    .setProtectedHeader({ alg: "HS256" })
    .sign(new TextEncoder().encode(SECRET));
  assertEquals((await subscribeStatus(t, `channels=private.a&token=${token}`)).status, 200);
});

Deno.test("with --jwt-audience, a token for another audience or none gets 401 naming the mismatch", async () => {
  await using t = await startTestServer({
    private: ["private.*"],
    jwtSecret: SECRET,
    jwtAudience: "sse-hub",
  });
  const query = async (claims: Record<string, unknown>) =>
    await subscribeStatus(t, `channels=private.a&token=${await hs256(claims)}`);
  assertEquals((await query({ channels: ["private.*"], aud: "sse-hub" })).status, 200);
  const other = await query({ channels: ["private.*"], aud: "billing" });
  assertEquals(other.status, 401);
  assertStringIncludes(other.error, 'aud claim "billing" does not match --jwt-audience "sse-hub"');
  const none = await query({ channels: ["private.*"] });
  assertEquals(none.status, 401);
  assertStringIncludes(none.error, 'no aud claim; --jwt-audience requires "sse-hub"');
});

Deno.test("with --jwt-issuer, a token from another issuer or none gets 401 naming the mismatch", async () => {
  await using t = await startTestServer({
    private: ["private.*"],
    jwtSecret: SECRET,
    jwtIssuer: "https://auth.example",
  });
  const query = async (claims: Record<string, unknown>) =>
    await subscribeStatus(t, `channels=private.a&token=${await hs256(claims)}`);
  assertEquals((await query({ channels: ["private.*"], iss: "https://auth.example" })).status, 200);
  const other = await query({ channels: ["private.*"], iss: "https://evil.example" });
  assertEquals(other.status, 401);
  assertStringIncludes(
    other.error,
    'iss claim "https://evil.example" does not match --jwt-issuer "https://auth.example"',
  );
  const none = await query({ channels: ["private.*"] });
  assertEquals(none.status, 401);
  assertStringIncludes(none.error, 'no iss claim; --jwt-issuer requires "https://auth.example"');
});

Deno.test("--jwt-audience applies to publish tokens too", async () => {
  await using t = await startTestServer({
    publishKey: "the-key",
    jwtSecret: SECRET,
    jwtAudience: "sse-hub",
  });
  const post = async (token: string) => {
    const response = await fetch(`${t.origin}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ channel: "news", data: "x" }),
    });
    return { status: response.status, error: (await response.json()).error as string };
  };
  assertEquals((await post(await hs256({ publish: ["news"], aud: "sse-hub" }))).status, 200);
  const other = await post(await hs256({ publish: ["news"], aud: "billing" }));
  assertEquals(other.status, 401);
  assertStringIncludes(other.error, "--jwt-audience");
});
