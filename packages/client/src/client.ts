import { createTokenManager } from '@ghcr/auth';
import { canonicalRegistry, definedProps, parseReference } from '@ghcr/oci-types';
import {
  createOperationTracing,
  createRegistryAuthorizer,
  createTransport,
  type OperationTracing,
  recordTokenEvent,
  type Transport,
} from '@ghcr/transport';
import { type ClientEventEmitter, type ClientEvents, createClientEvents } from './events.js';
import { createRetention, type Retention } from './github/retention/retention.js';
import { createVersions, type Versions } from './github/versions/versions.js';
import type { Vulnerabilities } from './github/vulnerabilities/vulnerabilities.js';
import { createImages, type Images } from './images/images.js';
import { createMultiArch, type MultiArch } from './multi-arch/multi-arch.js';
import { operationTransport, traceClient } from './operation-spans.js';
import {
  type ClientSettings,
  type GhcrClientOptions,
  type ResolvedGhcrClientOptions,
  registrySettings,
  resolveClientSettings,
} from './options.js';
import { createReferrers, type Referrers } from './referrers/referrers.js';
import { type Blobs, createBlobs } from './registry/blobs.js';
import { createSecretMemory } from './registry/credential-secrets.js';
import type { RegistryDependencies } from './registry/dependencies.js';
import { createManifests, type Manifests } from './registry/manifests.js';
import { createTags, type Tags } from './registry/tags.js';
import type { Signatures } from './signatures/signatures.js';
import type { SyncConfig } from './sync/config.js';
import { type RateLimitReader, transportRateLimitReader } from './sync/rate-limit.js';
import type { SyncOptions, SyncReport } from './sync/sync.js';

/**
 * A client of every registry. Its capabilities are narrow interfaces, each usable on its own.
 * `images` and `vulnerabilities` go to whatever registry a reference names
 * (`docker.io/library/alpine:3`, `ghcr.io/octo/app:1`); a reference without one, and the
 * repository-level capabilities (`blobs`, `manifests`, `tags`, …), use the client's default
 * registry. `forRegistry(host)` gives the same client with another default.
 *
 * One transport, token cache, rate-limit state and connection pool serve every registry, each kept
 * apart per registry (per origin): a credential goes only to the registry it was found for.
 * @public
 */
export interface GhcrClient {
  /** Blob reads (verified, resumable) and uploads (mount, monolithic, chunked and resumable). */
  readonly blobs: Blobs;
  /** Manifest get/head/put/delete with exact bytes. */
  readonly manifests: Manifests;
  /** Tag list, tag, untag. */
  readonly tags: Tags;
  /** Whole images: push (OCI layout, files as an artifact), pull to a layout, copy, inspect. */
  readonly images: Images;
  /** Referrers of a manifest (API or `sha256-<hex>` tag schema, cosign tags) and attaching artifacts. */
  readonly referrers: Referrers;
  /** Multi-platform indexes: create from platform manifests, add, replace, remove a platform. */
  readonly multiArch: MultiArch;
  /** Vulnerability reports attached to images (cosign attestations, SARIF, CycloneDX, Trivy) and the deployment gate. */
  readonly vulnerabilities: Vulnerabilities;
  /** Retention: read a package's registry graph, plan what to keep and delete, validate, execute. */
  readonly retention: Retention;
  /** Signatures and attestations: verify offline under a policy (key or keyless), list, sign with a key (cosign format). */
  readonly signatures: Signatures;
  /** GitHub package versions through the Packages REST API (list, delete, restore, untag on ghcr.io). */
  readonly versions: Versions;
  /** Operation events (`pushed`, `tagged`, `deleted`) and `progress`. */
  readonly events: ClientEvents;
  /**
   * Keeps mirrors in step (`ghcr sync`): for each `{ source, target }` pair and selected tag, HEADs
   * both sides and copies only what differs, within the source's rate limit. `config` is a
   * validated {@link SyncConfig} (`parseSyncConfig`) or YAML/JSON text.
   * @throws SyncConfigError when text does not validate.
   */
  sync(config: SyncConfig | string, options?: SyncOptions): Promise<SyncReport>;
  /** The default registry's canonical name (`ghcr.io`, `127.0.0.1:5000`, `docker.io`). */
  readonly registry: string;
  /** The base URL its requests go to (`https://ghcr.io`; Docker Hub's is `https://registry-1.docker.io`). */
  readonly baseUrl: string;
  /** Which registry behaviour the client expects. */
  readonly flavor: 'ghcr' | 'distribution';
  /** The options after defaults. */
  readonly options: ResolvedGhcrClientOptions;
  /** The transport requests go through (shared rate limiter, token cache, metrics). */
  readonly transport: Transport;
  /**
   * This client with `registry` as its default (`docker.io`, `quay.io`, `localhost:5000`): the same
   * transport, token cache, rate-limit state, connection pool and events, created once per
   * registry. Docker Hub's names (`index.docker.io`, …) all give the `docker.io` one.
   * @throws ConfigError when `registry` is not `host[:port]`.
   */
  forRegistry(registry: string): GhcrClient;
  /**
   * Closes the transport this client built (a transport you passed in is left to you). Every
   * `forRegistry` view shares it, so closing any of them closes them all.
   */
  close(): Promise<void>;
}

/**
 * Creates a client. Options are validated once; a bad one is a `ConfigError` naming the field.
 *
 * ```ts
 * const client = createGhcrClient({ registry: 'ghcr.io', authorizer });
 * const manifest = await client.manifests.get('octo/app', 'latest');
 * ```
 * @public
 */
export function createGhcrClient(options: GhcrClientOptions = {}): GhcrClient {
  const settings = resolveClientSettings(options);
  const resolved = settings.options;
  const ownTransport = resolved.transport === undefined;
  const buildTransport = (): Transport => {
    // Every credential resolved is remembered, so a registry echoing one in an error body does
    // not put it in a message (nor in a span, a log).
    const secretMemory = createSecretMemory();
    const credentials = secretMemory.watch(resolved.credentials);
    const apiCredentials = secretMemory.watch(resolved.apiCredentials ?? resolved.credentials);
    return createTransport({
      ...(resolved.transportOptions ?? {}),
      clock: resolved.clock,
      dispatcher: resolved.dispatcher,
      // The token manager sends as the transport does (its own connections, or the injected
      // dispatcher), so the two share one connection pool and no Agent is made for tokens.
      authorizer:
        resolved.authorizer ??
        ((parts) =>
          createRegistryAuthorizer({
            tokenManager: createTokenManager({
              send: parts.send,
              clock: resolved.clock,
              // Token cache hits and misses go to the transport's metrics, when it has any.
              onEvent: (event) => recordTokenEvent(parts.metrics, event),
              ...definedProps({ credentials }),
            }),
            ...definedProps({ apiCredentials }),
          })),
      secrets: secretMemory.secrets(resolved.transportOptions?.secrets),
    });
  };
  const transport = resolved.transport ?? buildTransport();
  // `sync`'s floor reads the quota each registry reported, as the transport parsed it.
  const rateLimits = transportRateLimitReader(transport);
  // One span per operation, from the tracer given to the transport or the global provider.
  const tracing = createOperationTracing({ tracer: resolved.transportOptions?.tracer });
  const events = createClientEvents();
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (!ownTransport) return Promise.resolve();
    closing ??= transport.close();
    return closing;
  };
  const views = new Map<string, GhcrClient>();
  const forRegistry = (registry: string): GhcrClient => {
    const key = canonicalRegistry(registry.replace(/^https?:\/\//i, '').replace(/\/$/, ''));
    const existing = views.get(key);
    if (existing !== undefined) return existing;
    const view = createRegistryView(registrySettings(resolved, registry), {
      transport,
      events,
      forRegistry,
      close,
      rateLimits,
      tracing,
    });
    views.set(key, view);
    return view;
  };
  const root = createRegistryView(settings, {
    transport,
    events,
    forRegistry,
    close,
    rateLimits,
    tracing,
  });
  views.set(settings.host, root);
  return root;
}

interface SharedParts {
  readonly transport: Transport;
  readonly events: ClientEventEmitter;
  readonly forRegistry: (registry: string) => GhcrClient;
  readonly close: () => Promise<void>;
  readonly rateLimits: RateLimitReader;
  readonly tracing: OperationTracing;
}

/**
 * The narrow pieces every capability of one registry is built from, made once from the resolved
 * settings, the transport and the event emitter: each capability takes the part it reads.
 * @internal
 */
export function registryDependencies(
  settings: ClientSettings,
  transport: Pick<Transport, 'send'>,
  events: ClientEventEmitter,
): RegistryDependencies {
  const options = settings.options;
  return {
    endpoint: {
      host: settings.host,
      baseUrl: settings.baseUrl,
      flavor: settings.flavor,
      send: (request) => transport.send(request),
    },
    events,
    limits: {
      chunkSize: settings.chunkSize,
      monolithicThreshold: settings.monolithicThreshold,
      maxResumeAttempts: options.maxResumeAttempts,
      resumeDelayMs: options.resumeDelayMs,
      progressIntervalBytes: options.progressIntervalBytes,
      maxManifestBytes: options.maxManifestBytes,
      concurrency: options.concurrency,
      clock: options.clock,
      randomId: options.randomId,
    },
  };
}

/**
 * Memoises an asynchronous load: `load` runs on the first call, and every call shares its promise.
 * The rarely used capabilities are loaded this way (`await import(…)` inside `load`), so a bundle
 * that takes the client from core.ts (the `ghcr` executable, where each command is a process of its
 * own and code loaded at start is paid by every command) puts their code in chunks that load only
 * when called; the package's index re-exports them, so a program importing it loads them with it
 * (docs/benchmarks.md, "Issue 18, fifth round"). A failed load (a module missing from a broken
 * install) stays failed: loading it again would fail the same way.
 */
function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}

/** The capabilities of one registry, over the parts every registry of the client shares. */
function createRegistryView(settings: ClientSettings, shared: SharedParts): GhcrClient {
  const resolved = settings.options;
  const { transport, events, forRegistry } = shared;
  const deps = registryDependencies(settings, operationTransport(transport, shared.tracing), events);
  const blobs = createBlobs(deps);
  const manifests = createManifests(deps);
  const tags = createTags(deps, manifests, blobs);
  const images = createImages(deps, { blobs, manifests, tags }, (registry) => forRegistry(registry));
  const versions = createVersions(deps, { tags, manifests }, resolved.versions ?? {});
  const referrers = createReferrers(deps, { blobs, manifests }, { api: resolved.referrersApi });
  const multiArch = createMultiArch(deps, { blobs, manifests });
  const retention = createRetention({
    manifests,
    tags,
    blobs,
    clock: resolved.clock,
    concurrency: resolved.concurrency,
  });
  // Reports, the gate, signatures and sync are loaded on first use (their parsers, Sigstore's
  // verifier, YAML), so a bundle built from core.ts loads their code only when called (onFirstUse).
  const ownVulnerabilities = onFirstUse(async () =>
    (await import('./github/vulnerabilities/vulnerabilities.js')).createVulnerabilities(deps, {
      manifests,
      blobs,
      listReports: (repository, digest, listOptions) => referrers.list(repository, digest, listOptions),
      githubApiUrl: versions.apiUrl,
      ...definedProps({ verifyAttestation: resolved.verifyAttestation }),
    }),
  );
  // A reference that names another registry is that registry's view's to answer.
  const vulnerabilitiesOf = async (reference: string): Promise<Vulnerabilities> => {
    const registry = namedRegistry(reference);
    return registry === undefined || registry === settings.host
      ? ownVulnerabilities()
      : forRegistry(registry).vulnerabilities;
  };
  const vulnerabilities: Vulnerabilities = {
    reports: async (reference, options) => (await vulnerabilitiesOf(reference)).reports(reference, options),
    gate: async (reference, options) => (await vulnerabilitiesOf(reference)).gate(reference, options),
    codeScanningAlerts: async (options) => (await ownVulnerabilities()).codeScanningAlerts(options),
  };
  const ownSignatures = onFirstUse(async () =>
    (await import('./signatures/signatures.js')).createSignatures(deps, { manifests, blobs, referrers }),
  );
  const signatures: Signatures = {
    verify: async (reference, options) => (await ownSignatures()).verify(reference, options),
    attestations: async (reference, options) => (await ownSignatures()).attestations(reference, options),
    sign: async (reference, options) => (await ownSignatures()).sign(reference, options),
  };
  const view: GhcrClient = traceClient(shared.tracing, {
    blobs,
    manifests,
    tags,
    images,
    referrers,
    multiArch,
    versions,
    vulnerabilities,
    retention,
    signatures,
    sync: async (config, options = {}) => {
      const parsed =
        typeof config === 'string' ? (await import('./sync/config.js')).parseSyncConfig(config) : config;
      const { runSync } = await import('./sync/sync.js');
      return runSync(parsed, { root: view, clock: resolved.clock, rateLimits: shared.rateLimits }, options);
    },
    events: { on: events.on, off: events.off, once: events.once },
    registry: settings.host,
    baseUrl: settings.baseUrl,
    flavor: settings.flavor,
    options: resolved,
    transport,
    forRegistry,
    close: shared.close,
  });
  return view;
}

/** The registry a reference names in front of its repository, canonical; undefined when none. */
function namedRegistry(reference: string): string | undefined {
  const first = reference.split('/')[0] ?? '';
  const names =
    reference.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  return names ? canonicalRegistry(parseReference(reference).registry) : undefined;
}
