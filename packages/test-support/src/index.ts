/**
 * `@ghcr/test-support`: the workspace's harness for integration tests and benchmarks (private,
 * never published). Plain Node: the `.mjs` benchmarks import its `dist/`; vitest resolves it to
 * `src/`. Describe and hook helpers are in `@ghcr/test-support/vitest`. The small helpers unit tests
 * of several packages share (a recording clock, `settle`, `rejectionOf`) are here too, so no
 * package rebuilds them.
 * @packageDocumentation
 */
export { type AccessLogEntry, parseAccessLog } from './access-log.js';
export {
  findBinary,
  type IntegrationAvailability,
  installHint,
  integrationAvailability,
} from './binaries.js';
export { endChildInput } from './child-input.js';
export {
  type DockerRegistry,
  type DockerRegistryOptions,
  type DockerRegistryStopOptions,
  type DockerRegistryTokenAuth,
  dockerRegistryConfig,
  startDockerRegistry,
} from './docker-registry.js';
export {
  type FaultMatrixOptions,
  formatMatrixTable,
  type MatrixOperation,
  type MatrixRow,
  type MatrixRun,
  type MatrixScenario,
  type MatrixTool,
  runFaultMatrix,
} from './fault-matrix.js';
export {
  DEFAULT_FAULT_KINDS,
  type FaultKind,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultRecord,
  startFaultProxy,
} from './fault-proxy.js';
export { freePort } from './free-port.js';
export { type LoopbackServer, startLoopbackServer } from './loopback-server.js';
export { findNode24, node24Availability, node24CacheDirectory } from './node24.js';
export type { MutableArrays } from './option-types.js';
export { type NamespaceAvailability, namespaceAvailability } from './real-names/network-namespace.js';
export {
  DOCKER_HUB_HOSTS,
  GHCR_HOSTS,
  type RealNamesRun,
  type RealNamesRunOptions,
  runWithRealNames,
  secretForms,
} from './real-names/real-names.js';
export type {
  CommandOutcome,
  RealNamesContext,
  RealNamesScenario,
} from './real-names/real-names-child.js';
export {
  createTestCertificateAuthority,
  type TestCertificateAuthority,
} from './real-names/test-certificate-authority.js';
export {
  type FrontRequest,
  startTlsFront,
  type TlsFront,
  type TlsFrontOptions,
} from './real-names/tls-front.js';
export { createRecordingClock, type RecordingClock, settle } from './recording-clock.js';
export { createDockerRegistryGroup, type DockerRegistryGroup } from './registry-group.js';
export { rejectionOf } from './rejection.js';
export { createTokenSigningKey, type TokenSigningKey } from './token-signing-key.js';
