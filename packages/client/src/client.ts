import { createTokenManager } from '@ghcr/auth';
import { createRegistryAuthorizer, createTransport, recordTokenEvent, type Transport } from '@ghcr/transport';
import { Agent, type Dispatcher } from 'undici';
import { type Blobs, createBlobs } from './blobs.js';
import type { ClientContext } from './context.js';
import { type ClientEvents, createClientEvents } from './events.js';
import { createImages, type Images } from './images/images.js';
import { createManifests, type Manifests } from './manifests.js';
import { createMultiArch, type MultiArch } from './multi-arch/multi-arch.js';
import { type GhcrClientOptions, type ResolvedGhcrClientOptions, resolveClientSettings } from './options.js';
import { createReferrers, type Referrers } from './referrers/referrers.js';
import { createRetention, type Retention } from './retention/retention.js';
import { createSignatures, type Signatures } from './signatures/signatures.js';
import { createTags, type Tags } from './tags.js';
import { createVersions, type Versions } from './versions/versions.js';
import { createVulnerabilities, type Vulnerabilities } from './vulnerabilities/vulnerabilities.js';

/**
 * A client for one registry. Its capabilities are narrow interfaces, each usable on its own.
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
  /** The registry host (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** The base URL requests go to (`https://ghcr.io`). */
  readonly baseUrl: string;
  /** Which registry behaviour the client expects. */
  readonly flavor: 'ghcr' | 'distribution';
  /** The options after defaults. */
  readonly options: ResolvedGhcrClientOptions;
  /** The transport requests go through (shared rate limiter, token cache, metrics). */
  readonly transport: Transport;
  /** Closes the transport this client built (a transport you passed in is left to you). */
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
  let ownAgent: Agent | undefined;
  const buildTransport = (): Transport => {
    // The token manager and the transport share one dispatcher (and so one connection pool).
    let dispatcher: Dispatcher | undefined = resolved.dispatcher;
    if (dispatcher === undefined) {
      const transportOptions = resolved.transportOptions ?? {};
      ownAgent = new Agent({
        connections: transportOptions.connections ?? 16,
        keepAliveTimeout: transportOptions.keepAliveTimeoutMs ?? 30_000,
        connect: { timeout: transportOptions.connectTimeoutMs ?? 10_000 },
      });
      dispatcher = ownAgent;
    }
    let built: Transport | undefined;
    const authorizer =
      resolved.authorizer ??
      createRegistryAuthorizer({
        tokenManager: createTokenManager({
          dispatcher,
          clock: resolved.clock,
          // Token cache hits and misses go to the transport's metrics, when it has any.
          onEvent: (event) => recordTokenEvent(built?.metrics, event),
          ...(resolved.credentials === undefined ? {} : { credentials: resolved.credentials }),
        }),
        ...(resolved.credentials === undefined ? {} : { apiCredentials: resolved.credentials }),
      });
    built = createTransport({
      ...(resolved.transportOptions ?? {}),
      clock: resolved.clock,
      dispatcher,
      authorizer,
    });
    return built;
  };
  const transport = resolved.transport ?? buildTransport();
  const events = createClientEvents();
  const context: ClientContext = { settings, transport, events };
  const blobs = createBlobs(context);
  const manifests = createManifests(context);
  const tags = createTags(context, manifests, blobs);
  const images = createImages(context, { blobs, manifests, tags });
  const versions = createVersions(context, { tags, manifests }, resolved.versions ?? {});
  const referrers = createReferrers(context, { blobs, manifests }, { api: resolved.referrersApi });
  const multiArch = createMultiArch(context, { blobs, manifests });
  const retention = createRetention({
    manifests,
    tags,
    blobs,
    clock: resolved.clock,
    concurrency: resolved.concurrency,
  });
  const vulnerabilities = createVulnerabilities(context, {
    manifests,
    blobs,
    listReports: (repository, digest, listOptions) => referrers.list(repository, digest, listOptions),
    githubApiUrl: versions.apiUrl,
    ...(resolved.verifyAttestation === undefined ? {} : { verifyAttestation: resolved.verifyAttestation }),
  });
  return {
    blobs,
    manifests,
    tags,
    images,
    referrers,
    multiArch,
    versions,
    vulnerabilities,
    retention,
    signatures: createSignatures(context, { manifests, blobs, referrers }),
    events: { on: events.on, off: events.off, once: events.once },
    registry: settings.host,
    baseUrl: settings.baseUrl,
    flavor: settings.flavor,
    options: resolved,
    transport,
    async close() {
      if (!ownTransport) return;
      await transport.close();
      await ownAgent?.close();
    },
  };
}
