import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import type { Blobs } from '../../registry/blobs.js';
import type { Manifests } from '../../registry/manifests.js';
import type { Tags } from '../../registry/tags.js';
import { buildRegistryGraph, type GraphReadOptions, type ManifestCache } from './build-graph.js';
import { type ExecutePlanOptions, executePlan, type RetentionReport } from './execute.js';
import type { RegistryGraph } from './graph.js';
import { planRetention, type RetentionPlan } from './plan.js';
import type { RetentionPolicy } from './policy.js';
import type { RevalidationSource } from './revalidate.js';
import { type RepositoryValidation, validateRepository } from './validate.js';
import type { RetentionVersionInput } from './versions.js';

/**
 * Options of {@link Retention.readGraph}.
 * @public
 */
export interface ReadGraphOptions {
  /** HEAD every blob too, so partial images with missing blobs are reported. If omitted, false. */
  readonly checkBlobs?: boolean | undefined;
  /** Manifests already read, by digest (a `Map` kept between runs saves downloads). If omitted, one per call. */
  readonly cache?: ManifestCache | undefined;
  /** Reads in flight at once. If omitted, the client's `concurrency`. */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Retention for the packages of one registry: read the graph, plan, validate, execute. Each
 * step is also available on its own (`buildRegistryGraph`, `planRetention`,
 * `validateRepository`, `executePlan`).
 * @public
 */
export interface Retention {
  /**
   * Reads the graph of `repository` (`owner/name`) for these versions (every active version of
   * its package, from the Packages API): manifests by digest through `client.manifests` (each
   * once), tags through `client.tags`, unknown tags resolved by HEAD.
   */
  readGraph(
    repository: string,
    versions: readonly RetentionVersionInput[],
    options?: ReadGraphOptions,
  ): Promise<RegistryGraph>;
  /** `planRetention(versions, graph, policy, now)`; `now` defaults to the client's clock. */
  plan(
    versions: readonly RetentionVersionInput[],
    graph: RegistryGraph,
    policy: RetentionPolicy,
    now?: number | Date,
  ): RetentionPlan;
  /** `validateRepository(graph)`: broken images, changing nothing. */
  validate(graph: RegistryGraph): RepositoryValidation;
  /** `executePlan(plan, options)`; `minAge` is measured with the client's clock unless `options.clock` is given. */
  execute(plan: RetentionPlan, options: ExecutePlanOptions): Promise<RetentionReport>;
  /**
   * What `execute` reads to look again before each delete batch (its `revalidate` option):
   * `repository`'s tags and manifests through this client, versions through `listVersions`
   * (newest first, e.g. `(o) => client.versions.iterate(repository, o)`), and `graph`, the graph
   * the plan was made from.
   */
  revalidation(repository: string, graph: RegistryGraph, options: RevalidationOptions): RevalidationSource;
}

/**
 * Options of {@link Retention.revalidation}.
 * @public
 */
export interface RevalidationOptions {
  /** The package's active versions, newest first (e.g. `(o) => client.versions.iterate(repository, o)`). */
  readonly listVersions: RevalidationSource['listVersions'];
  /** Manifests already read, by digest (the one given to `readGraph` saves reads). If omitted, one per run. */
  readonly cache?: ManifestCache | undefined;
}

/**
 * What {@link createRetention} needs from the client.
 * @public
 */
export interface RetentionDependencies {
  readonly manifests: Pick<Manifests, 'get' | 'head'>;
  readonly tags: Pick<Tags, 'list'>;
  readonly blobs: Pick<Blobs, 'exists'>;
  /** The clock `plan` reads `now` from. */
  readonly clock: Pick<Clock, 'now'>;
  /** Default read concurrency. */
  readonly concurrency?: number;
}

const withSignal = (options: GraphReadOptions): { signal?: AbortSignal | undefined } =>
  options.signal === undefined ? {} : { signal: options.signal };

/**
 * Creates the retention capability over a client's manifests, tags and blobs (proposed as
 * `client.retention`; wire with `createRetention({ manifests, tags, blobs, clock:
 * settings.options.clock, concurrency: settings.options.concurrency })`).
 * @public
 */
export function createRetention(dependencies: RetentionDependencies): Retention {
  const { manifests, tags, blobs, clock } = dependencies;
  return {
    readGraph(repository, versions, options = {}) {
      return buildRegistryGraph({
        versions,
        fetchManifest: (digest, read) => manifests.get(repository, digest, withSignal(read)),
        listTags: (read) => tags.list(repository, withSignal(read)),
        resolveTag: async (tag, read) => (await manifests.head(repository, tag, withSignal(read)))?.digest,
        ...(options.checkBlobs === true
          ? {
              blobExists: async (digest: string, read: GraphReadOptions) =>
                (await blobs.exists(repository, digest, withSignal(read))) !== undefined,
            }
          : {}),
        ...definedProps({ cache: options.cache }),
        concurrency: options.concurrency ?? dependencies.concurrency ?? 4,
        ...definedProps({ signal: options.signal }),
      });
    },
    plan: (versions, graph, policy, now) => planRetention(versions, graph, policy, now ?? clock.now()),
    validate: validateRepository,
    execute: (plan, options) => executePlan(plan, { clock, ...options }),
    revalidation: (repository, graph, options) => ({
      graph,
      // One request for the whole list where the registry allows (ghcr.io returns 10,000 tags with
      // n=10000); pages are still followed.
      listTags: (read) => tags.list(repository, { ...withSignal(read), pageSize: 10_000 }),
      listVersions: options.listVersions,
      fetchManifest: (digest, read) => manifests.get(repository, digest, withSignal(read)),
      resolveTag: async (tag, read) => (await manifests.head(repository, tag, withSignal(read)))?.digest,
      ...definedProps({ cache: options.cache }),
    }),
  };
}
