/**
 * What Kubernetes puts in every pod's environment for a Service named
 * `sse-hub` (service links), for the tests of how sse-hub reads it.
 *
 * @module
 */

/** The environment Kubernetes gives every pod for a Service named `sse-hub`. */
export const KUBERNETES_ENV: Readonly<Record<string, string>> = {
  SSE_HUB_SERVICE_HOST: "10.96.0.12",
  SSE_HUB_SERVICE_PORT: "8888",
  SSE_HUB_PORT: "tcp://10.96.0.12:8888",
  SSE_HUB_PORT_8888_TCP: "tcp://10.96.0.12:8888",
  SSE_HUB_PORT_8888_TCP_PROTO: "tcp",
  SSE_HUB_PORT_8888_TCP_ADDR: "10.96.0.12",
  SSE_HUB_PORT_8888_TCP_PORT: "8888",
};
