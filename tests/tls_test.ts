import { assertEquals, assertThrows } from "@std/assert";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/errors.ts";
import { publishJson, startTestServer } from "./_helpers/server.ts";

/**
 * A test CA and a localhost certificate it signed (rustls refuses a
 * self-signed certificate that is its own CA), made with openssl.
 */
async function certificates(dir: string): Promise<{ cert: string; key: string; ca: string }> {
  const run = async (...args: string[]) => {
    const { success, stderr } = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run(
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "1",
    "-subj",
    "/CN=test CA",
  );
  await run("req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost");
  await Deno.writeTextFile(
    `${dir}/leaf.ext`,
    "basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
  );
  await run(
    "x509",
    "-req",
    "-in",
    "leaf.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "cert.pem",
    "-days",
    "1",
    "-extfile",
    "leaf.ext",
  );
  return { cert: `${dir}/cert.pem`, key: `${dir}/key.pem`, ca: `${dir}/ca.pem` };
}

let openssl = true;
try {
  new Deno.Command("openssl", { args: ["version"], stdout: "null" }).outputSync();
} catch {
  openssl = false;
  console.warn("skipping the TLS test: openssl is not installed (Debian package openssl)");
}

Deno.test({
  name: "with --cert and --key the server speaks HTTPS, streams included",
  ignore: !openssl,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const { cert, key, ca } = await certificates(dir);
      await using t = await startTestServer({ cert, key });
      assertEquals(t.server.url.protocol, "https:");
      using client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
      const origin = t.origin.replace("127.0.0.1", "localhost");
      const stream = await fetch(`${origin}/?channels=secure`, { client });
      assertEquals(stream.status, 200);
      const reader = stream.body!.getReader();
      await reader.read(); // the preamble
      const published = await fetch(`${origin}/publish`, {
        client,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ channel: "secure", data: "over tls" }),
      });
      assertEquals((await published.json()).delivered, 1);
      let text = "";
      while (!text.includes("over tls")) {
        text += new TextDecoder().decode((await reader.read()).value);
      }
      await reader.cancel();
      // A client that only speaks HTTP/2 is served too (ALPN).
      using h2 = Deno.createHttpClient({
        caCerts: [await Deno.readTextFile(ca)],
        http1: false,
        http2: true,
      });
      const health = await fetch(`${origin}/healthz`, { client: h2 });
      assertEquals(health.status, 200);
      await health.body?.cancel();
      // Plain HTTP to the TLS port does not get an event stream.
      await publishJson(origin.replace("https:", "http:"), { channel: "secure", data: "x" })
        .then(() => {
          throw new Error("plain HTTP was answered");
        }, () => {});
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("--cert without --key, or TLS with the node transport, is a configuration error", () => {
  assertThrows(
    () => loadConfig({ args: ["--cert", "c.pem"], env: {} }),
    ConfigError,
    "go together",
  );
  assertThrows(
    () =>
      loadConfig({ args: ["--cert", "c.pem", "--key", "k.pem", "--transport", "node"], env: {} }),
    ConfigError,
    "does not do TLS",
  );
});
