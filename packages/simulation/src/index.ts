/**
 * `@ghcr/simulation`: an in-memory GitHub Container Registry (OCI distribution API v1.1 with
 * GHCR's quirks, token endpoint, signed blob host, GitHub Packages REST API) for tests and for
 * `ghcr serve`: msw handlers, an in-process undici Dispatcher and a loopback server over one state,
 * with fault injection, a request log, and record/replay.
 *
 * @packageDocumentation
 */

export type {
  RegistryAccess,
  RegistryAction,
  RegistryCredential,
  RegistryTokenClaims,
  TokenService,
} from './auth/tokens.js';
export type { RequestAnnotation, SimulationContext } from './context.js';
export { SimulationDispatcher } from './dispatch/dispatcher.js';
export type {
  ActiveFault,
  FaultAction,
  FaultInjector,
  FaultRule,
} from './faults/fault-injector.js';
export { createGithubApiHandlers } from './github-api/index.js';
export type { RequestLog, RequestLogEntry } from './log.js';
export {
  type ResolvedDockerHubOptions,
  type ResolvedSimulationOptions,
  type SimulationDockerHubOptions,
  type SimulationOptions,
  type SimulationTokenSigningOptions,
  simulationOptionsSchema,
} from './options.js';
export {
  type Cassette,
  type CassetteEntry,
  createRecordingDispatcher,
  createReplayDispatcher,
  type RecordingDispatcherOptions,
  type ReplayDispatcherOptions,
} from './record/index.js';
export { createRegistryHandlers } from './registry/handlers.js';
export {
  type DemoRelease,
  type DemoSeed,
  type DockerHubSeed,
  type OrganizationSeed,
  type PushedImage,
  type PushedManifest,
  pushBlob,
  pushImage,
  pushIndex,
  pushManifest,
  type SeedDemoOptions,
  type SeedDockerHubOptions,
  type SeedImageOptions,
  type SeedOrganizationOptions,
  seedDemo,
  seedDockerHub,
  seedOrganization,
} from './scenarios/index.js';
export {
  type SimulationServer,
  type StartSimulationServerOptions,
  startSimulationServer,
} from './serve/server.js';
export { createSimulation, type Simulation } from './simulation.js';
export type { BlobCommitResult, BlobStore, BlobWriter, ByteRange } from './state/blob-store.js';
export { createDiskBlobStore } from './state/disk-store.js';
export { createMemoryBlobStore } from './state/memory-store.js';
export {
  type ManifestRecord,
  type ManifestReference,
  type OwnerRecord,
  PACKAGE_SCOPES,
  type PackageRecord,
  type PackageScope,
  type PatRecord,
  type RepositoryRecord,
  type SimulationVisibility,
  type StateFailure,
  type StateResult,
  type UploadSession,
} from './state/records.js';
export { type ManifestInput, RESTORE_WINDOW_MS, SimulationState } from './state/simulation-state.js';
