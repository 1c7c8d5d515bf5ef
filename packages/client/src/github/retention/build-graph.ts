import type { ParsedManifest } from '@ghcr/manifest';
import {
  ConfigError,
  definedProps,
  EMPTY_JSON_DIGEST,
  GhcrError,
  isDigest,
  lazySchema,
  MediaType,
  NotFoundError,
  PARSE_ONCE,
  unknownKeysError,
} from '@ghcr/oci-types';
import * as z from 'zod';
import { isUntagPlaceholder } from '../../registry/placeholder.js';
import type {
  ManifestNodeKind,
  MissingManifest,
  ReferrerLink,
  ReferrerRelation,
  RegistryGraph,
  RegistryGraphNode,
  UnreadableManifest,
} from './graph.js';
import { attachmentOf } from './graph-index.js';
import { type NormalizedVersion, normalizeVersions, type RetentionVersionInput } from './versions.js';

/**
 * Manifests by digest, kept between reads (a `Map` will do). A manifest is immutable by its
 * digest, so a cache never goes stale; on GHCR every manifest GET counts as a download against the
 * package (ghcr-facts §2), and the 5,000-download rule blocks deleting public versions.
 * @public
 */
export interface ManifestCache {
  get(digest: string): ParsedManifest | undefined;
  set(digest: string, manifest: ParsedManifest): unknown;
}

/** Per-call options handed to the reading functions. @public */
export interface GraphReadOptions {
  readonly signal?: AbortSignal | undefined;
}

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;
const isFunction = (value: unknown): boolean => typeof value === 'function';

/**
 * The zod schema of {@link BuildRegistryGraphOptions} (documented there). Strict: an unknown key is refused.
 * @public
 */
export const buildRegistryGraphOptionsSchema = lazySchema(
  () =>
    z
      .object({
        versions: z
          .array(z.custom<RetentionVersionInput>(isObject, 'must be a package version object'))
          .readonly(),
        fetchManifest: z.custom<(digest: string, options: GraphReadOptions) => Promise<ParsedManifest>>(
          isFunction,
          'must be a function (digest, { signal }) => Promise<ParsedManifest>',
        ),
        listTags: z.custom<(options: GraphReadOptions) => Promise<readonly string[]>>(
          isFunction,
          'must be a function ({ signal }) => Promise<string[]>',
        ),
        resolveTag: z
          .custom<(tag: string, options: GraphReadOptions) => Promise<string | undefined>>(
            isFunction,
            'must be a function (tag, { signal }) => Promise<string | undefined>',
          )
          .optional(),
        blobExists: z
          .custom<(digest: string, options: GraphReadOptions) => Promise<boolean>>(
            isFunction,
            'must be a function (digest, { signal }) => Promise<boolean>',
          )
          .optional(),
        cache: z
          .custom<ManifestCache>(
            (value) => isObject(value) && isFunction((value as ManifestCache).get),
            'must be a cache (get/set by digest, e.g. a Map)',
          )
          .optional(),
        known: z
          .custom<ReadonlySet<string>>(
            (value) => isObject(value) && isFunction((value as ReadonlySet<string>).has),
            'must be a set of digests (has(digest))',
          )
          .optional(),
        concurrency: z.number().int().positive().max(64).default(4),
        signal: z.custom<AbortSignal>(isObject, 'must be an AbortSignal').optional(),
      })
      .strict() satisfies z.ZodType<unknown, BuildRegistryGraphOptions>,
);

/**
 * Options of {@link buildRegistryGraph}.
 * @public
 */
export interface BuildRegistryGraphOptions {
  /** Every active version of the package (Packages API objects or {@link RetentionVersion}s). */
  readonly versions: readonly RetentionVersionInput[];
  /** Reads one manifest by digest (e.g. `(digest, o) => client.manifests.get(repository, digest, o)`). */
  readonly fetchManifest: (digest: string, options: GraphReadOptions) => Promise<ParsedManifest>;
  /** Lists the registry's tags (e.g. `(o) => client.tags.list(repository, o)`). */
  readonly listTags: (options: GraphReadOptions) => Promise<readonly string[]>;
  /**
   * Resolves a tag the registry lists but no version carries (the API and the registry can
   * disagree for a moment) to a digest, or undefined when the tag is gone. If omitted, such a tag
   * makes the graph incomplete (fail closed).
   */
  readonly resolveTag?: ((tag: string, options: GraphReadOptions) => Promise<string | undefined>) | undefined;
  /** Checks that a blob exists (HEAD), for reporting partial images. If omitted, blobs are not checked. */
  readonly blobExists?: ((digest: string, options: GraphReadOptions) => Promise<boolean>) | undefined;
  /** Manifests already read (by digest), consulted before each GET and filled after. If omitted, a fresh one per call. */
  readonly cache?: ManifestCache | undefined;
  /**
   * Digests already in a graph read earlier (e.g. `Object.keys(graph.nodes)`): neither read nor
   * followed, so reading what changed since that graph costs only the new manifests. The result
   * then has no node for them (merge it with the earlier graph). If omitted, none.
   */
  readonly known?: ReadonlySet<string> | undefined;
  /** Reads in flight at once. If omitted, 4. */
  readonly concurrency?: number | undefined;
  /** Aborts the reads (the promise rejects with the abort error). */
  readonly signal?: AbortSignal | undefined;
}

interface MutableNode {
  digest: string;
  kind: ManifestNodeKind;
  mediaType: string;
  artifactType?: string;
  versionId?: number;
  children: string[];
  subject?: string;
  blobs: string[];
  /** child digest → the image digest it attests (BuildKit attestation entries). */
  attestations: Map<string, string>;
}

const IMAGE_CONFIGS = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig]);

function nodeOf(parsed: ParsedManifest, versionId: number | undefined): MutableNode {
  const base = {
    digest: parsed.digest,
    mediaType: parsed.mediaType,
    ...definedProps({ versionId }),
    attestations: new Map<string, string>(),
  };
  if (parsed.kind === 'oci-index' || parsed.kind === 'docker-manifest-list') {
    const node: MutableNode = {
      ...base,
      kind: 'index',
      children: parsed.manifest.manifests.map((entry) => entry.digest),
      blobs: [],
    };
    for (const entry of parsed.manifest.manifests) {
      const annotations = entry.annotations ?? {};
      const attested = annotations['vnd.docker.reference.digest'];
      if (annotations['vnd.docker.reference.type'] === 'attestation-manifest' && attested !== undefined) {
        node.attestations.set(entry.digest, attested);
      }
    }
    if (parsed.kind === 'oci-index') {
      if (parsed.manifest.subject !== undefined) node.subject = parsed.manifest.subject.digest;
      if (parsed.manifest.artifactType !== undefined) node.artifactType = parsed.manifest.artifactType;
    }
    return node;
  }
  const config = parsed.manifest.config;
  const blobs = [config.digest, ...parsed.manifest.layers.map((layer) => layer.digest)];
  const node: MutableNode = { ...base, kind: 'image', children: [], blobs };
  if (parsed.kind === 'oci-manifest') {
    if (parsed.manifest.subject !== undefined) node.subject = parsed.manifest.subject.digest;
    const artifactType =
      parsed.manifest.artifactType ?? (IMAGE_CONFIGS.has(config.mediaType) ? undefined : config.mediaType);
    if (artifactType !== undefined && artifactType !== MediaType.OciEmpty) node.artifactType = artifactType;
    if (isUntagPlaceholder(parsed)) node.kind = 'placeholder';
    else if (
      parsed.manifest.layers.length === 0 &&
      config.digest === EMPTY_JSON_DIGEST &&
      parsed.manifest.artifactType === undefined &&
      node.subject === undefined
    )
      node.kind = 'placeholder';
    else if (node.artifactType !== undefined || node.subject !== undefined) node.kind = 'artifact';
  } else if (!IMAGE_CONFIGS.has(config.mediaType)) {
    node.artifactType = config.mediaType;
    node.kind = 'artifact';
  }
  return node;
}

function describeError(error: unknown): { message: string; code?: string } {
  if (GhcrError.isInstance(error)) return { message: error.message, code: error.code };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** Runs `worker` over a queue that may grow while it runs, at most `limit` at once. */
async function drainQueue<T>(
  initial: readonly T[],
  limit: number,
  worker: (item: T, enqueue: (item: T) => void) => Promise<void>,
): Promise<void> {
  const queue = [...initial];
  let active = 0;
  let failure: { error: unknown } | undefined;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      while (failure === undefined && active < limit && queue.length > 0) {
        const item = queue.shift() as T;
        active += 1;
        worker(item, (next) => queue.push(next)).then(
          () => {
            active -= 1;
            pump();
          },
          (error: unknown) => {
            active -= 1;
            failure ??= { error };
            pump();
          },
        );
      }
      if (active === 0 && (queue.length === 0 || failure !== undefined)) resolve();
    };
    pump();
  });
  if (failure !== undefined) throw failure.error;
}

/**
 * Reads the graph of one package before anything is planned: every version's manifest (by
 * digest, once: manifests are cached by digest, since each GET counts as a download on GHCR), the
 * registry's tag list, and from them
 * - index → children (platform manifests, attestation manifests, nested indexes);
 * - subject → referrers: OCI 1.1 `subject` fields, the index at the `sha256-<hex>` fallback tag
 *   and its entries (GHCR has no referrers API), cosign `sha256-<hex>.sig/.att/.sbom` tags,
 *   BuildKit attestation entries → the image they attest;
 * - manifests referenced but not among the versions are read too: a 404 makes them `missing`
 *   (ghost and partial images, orphaned referrers), anything else `unreadable`.
 *
 * Any read failure marks the digest unreadable (or the graph incomplete) instead of throwing:
 * the planner then keeps everything (fail closed). Only an abort rejects.
 * @throws ConfigError on invalid options; the abort reason when `signal` aborts.
 * @public
 */
export async function buildRegistryGraph(options: BuildRegistryGraphOptions): Promise<RegistryGraph> {
  const parsedOptions = buildRegistryGraphOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!parsedOptions.success) {
    const issue = parsedOptions.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError(
        'buildRegistryGraph option',
        buildRegistryGraphOptionsSchema,
        issue,
        parsedOptions.error,
      );
    }
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(`invalid buildRegistryGraph option "${field}": ${issue?.message ?? 'invalid'}`, {
      field,
      cause: parsedOptions.error,
    });
  }
  const resolved = parsedOptions.data;
  const signal = resolved.signal;
  const readOptions: GraphReadOptions = signal === undefined ? {} : { signal };
  const throwIfAborted = (): void => signal?.throwIfAborted();
  const versions = normalizeVersions(resolved.versions);
  const cache: ManifestCache = resolved.cache ?? new Map<string, ParsedManifest>();
  const stats = { manifestsFetched: 0, cacheHits: 0, blobsChecked: 0 };

  const versionByDigest = new Map<string, NormalizedVersion>();
  const tagTarget = new Map<string, string>();
  const unreadable = new Map<string, UnreadableManifest>();
  const incomplete: string[] = [];
  const warnings: string[] = [];

  for (const version of versions) {
    if (!isDigest(version.digest)) {
      unreadable.set(version.digest, {
        digest: version.digest,
        versionId: version.id,
        reason: `package version ${version.id} is named "${version.digest.slice(0, 80)}", which is not a manifest digest; is this a container package?`,
      });
      continue;
    }
    versionByDigest.set(version.digest, version);
    for (const tag of version.tags) {
      const other = tagTarget.get(tag);
      if (other !== undefined && other !== version.digest) {
        incomplete.push(
          `tag "${tag}" is on two versions (${other} and ${version.digest}); list the versions again`,
        );
      }
      tagTarget.set(tag, version.digest);
    }
  }

  // The registry's tag list: tags the versions do not carry are resolved (or the graph is incomplete).
  let registryTags: readonly string[] = [];
  try {
    registryTags = await resolved.listTags(readOptions);
  } catch (error) {
    throwIfAborted();
    incomplete.push(
      `the registry's tag list could not be read (${describeError(error).message}); without it, tags the versions do not show could point anywhere`,
    );
  }
  const unknownTags = [...new Set(registryTags)].filter((tag) => !tagTarget.has(tag));
  await drainQueue(unknownTags, resolved.concurrency, async (tag) => {
    if (resolved.resolveTag === undefined) {
      incomplete.push(
        `the registry lists tag "${tag}" but no package version carries it; pass resolveTag so its manifest can be found`,
      );
      return;
    }
    try {
      const digest = await resolved.resolveTag(tag, readOptions);
      if (digest !== undefined) tagTarget.set(tag, digest);
    } catch (error) {
      throwIfAborted();
      incomplete.push(`tag "${tag}" could not be resolved (${describeError(error).message})`);
    }
  });

  const nodes = new Map<string, MutableNode>();
  const referencedBy = new Map<
    string,
    Map<string, { digest: string; relation: 'child' | ReferrerRelation }>
  >();
  const missing = new Set<string>();
  const requested = new Set<string>();
  const tagsOf = new Map<string, string[]>();
  for (const [tag, digest] of tagTarget) {
    const list = tagsOf.get(digest);
    if (list === undefined) tagsOf.set(digest, [tag]);
    else list.push(tag);
  }

  interface Request {
    readonly digest: string;
    readonly from?: { readonly digest: string; readonly relation: 'child' | ReferrerRelation };
  }
  const initial: Request[] = [];
  const request = (item: Request, enqueue: (item: Request) => void): void => {
    if (item.from !== undefined) {
      let from = referencedBy.get(item.digest);
      if (from === undefined) {
        from = new Map();
        referencedBy.set(item.digest, from);
      }
      from.set(`${item.from.digest}|${item.from.relation}`, item.from);
    }
    if (requested.has(item.digest)) return;
    requested.add(item.digest);
    if (resolved.known?.has(item.digest) === true) return;
    enqueue(item);
  };
  for (const digest of versionByDigest.keys()) request({ digest }, (item) => initial.push(item));
  for (const digest of tagsOf.keys()) {
    if (isDigest(digest)) request({ digest }, (item) => initial.push(item));
    else incomplete.push(`a tag resolved to "${digest.slice(0, 80)}", which is not a digest`);
  }

  await drainQueue(initial, resolved.concurrency, async (item, enqueue) => {
    const version = versionByDigest.get(item.digest);
    let parsed = cache.get(item.digest);
    if (parsed !== undefined) stats.cacheHits += 1;
    else {
      try {
        stats.manifestsFetched += 1;
        parsed = await resolved.fetchManifest(item.digest, readOptions);
      } catch (error) {
        throwIfAborted();
        const described = describeError(error);
        if (NotFoundError.isInstance(error) && version === undefined && item.from !== undefined) {
          // Referenced, not a version, and the registry has no such manifest: confirmed missing.
          missing.add(item.digest);
          return;
        }
        unreadable.set(item.digest, {
          digest: item.digest,
          ...(version === undefined ? {} : { versionId: version.id }),
          reason: NotFoundError.isInstance(error)
            ? `the registry has no manifest ${item.digest}${version === undefined ? ', though a tag points at it' : `, though package version ${version.id} lists it`}; until the registry and the Packages API agree, nothing is deleted (restore or delete that version by hand)`
            : `manifest ${item.digest} could not be read: ${described.message}`,
          ...definedProps({ code: described.code }),
        });
        return;
      }
      if (parsed.digest !== item.digest) {
        unreadable.set(item.digest, {
          digest: item.digest,
          ...(version === undefined ? {} : { versionId: version.id }),
          reason: `reading ${item.digest} returned a manifest whose digest is ${parsed.digest}`,
          code: 'GHCR_DIGEST_MISMATCH',
        });
        return;
      }
      cache.set(item.digest, parsed);
    }
    const node = nodeOf(parsed, version?.id);
    nodes.set(item.digest, node);
    const follow = (digest: string, relation: 'child' | ReferrerRelation): void => {
      if (!isDigest(digest)) return;
      request({ digest, from: { digest: item.digest, relation } }, enqueue);
    };
    for (const child of node.children) follow(child, 'child');
    if (node.subject !== undefined) follow(node.subject, 'subject');
    for (const attested of node.attestations.values()) follow(attested, 'attestation-manifest');
    for (const tag of tagsOf.get(item.digest) ?? []) {
      const attachment = attachmentOf(tag);
      if (attachment !== undefined) follow(attachment.subject, attachment.relation);
    }
  });

  // Referrers: subject → links.
  const referrers = new Map<string, Map<string, ReferrerLink>>();
  const link = (subject: string, referrer: ReferrerLink): void => {
    let links = referrers.get(subject);
    if (links === undefined) {
      links = new Map();
      referrers.set(subject, links);
    }
    const key = `${referrer.digest}|${referrer.via}`;
    if (!links.has(key)) links.set(key, referrer);
  };
  for (const node of nodes.values()) {
    if (node.subject !== undefined) link(node.subject, { digest: node.digest, via: 'subject' });
    for (const [child, attested] of node.attestations) {
      link(attested, { digest: child, via: 'attestation-manifest' });
      const childNode = nodes.get(child);
      if (childNode !== undefined && childNode.kind === 'image') childNode.kind = 'artifact';
    }
    for (const tag of tagsOf.get(node.digest) ?? []) {
      const attachment = attachmentOf(tag);
      if (attachment?.relation === 'referrers-tag') {
        link(attachment.subject, { digest: node.digest, via: 'referrers-tag', tag });
        for (const entry of node.children)
          link(attachment.subject, { digest: entry, via: 'referrers-tag', tag });
      } else if (attachment?.relation === 'cosign-tag') {
        link(attachment.subject, { digest: node.digest, via: 'cosign-tag', tag });
        if (node.kind === 'image') node.kind = 'artifact';
      }
    }
  }

  // Blobs, when asked: a missing one makes its image partial.
  const missingBlobs = new Map<string, boolean>();
  if (resolved.blobExists !== undefined) {
    const blobExists = resolved.blobExists;
    const all = [...new Set([...nodes.values()].flatMap((node) => node.blobs))];
    await drainQueue(all, resolved.concurrency, async (digest) => {
      stats.blobsChecked += 1;
      try {
        missingBlobs.set(digest, !(await blobExists(digest, readOptions)));
      } catch (error) {
        throwIfAborted();
        warnings.push(`blob ${digest} could not be checked: ${describeError(error).message}`);
      }
    });
  }

  const sortedKeys = (map: ReadonlyMap<string, unknown>): string[] => [...map.keys()].sort();
  const outNodes: Record<string, RegistryGraphNode> = {};
  for (const digest of sortedKeys(nodes)) {
    const node = nodes.get(digest) as MutableNode;
    const absent =
      resolved.blobExists === undefined ? undefined : node.blobs.filter((b) => missingBlobs.get(b));
    outNodes[digest] = {
      digest,
      kind: node.kind,
      mediaType: node.mediaType,
      ...definedProps({ artifactType: node.artifactType, versionId: node.versionId }),
      tags: [...(tagsOf.get(digest) ?? [])].sort(),
      children: node.children,
      ...definedProps({ subject: node.subject }),
      blobs: node.blobs,
      ...definedProps({ missingBlobs: absent }),
    };
  }
  // Tags are keys: `__proto__` is a valid tag, so no prototype.
  const outTags: Record<string, string> = Object.create(null);
  for (const tag of [...tagTarget.keys()].sort()) outTags[tag] = tagTarget.get(tag) as string;
  const outReferrers: Record<string, ReferrerLink[]> = {};
  for (const subject of sortedKeys(referrers)) {
    outReferrers[subject] = [...(referrers.get(subject)?.values() ?? [])];
  }
  const outMissing: MissingManifest[] = [...missing].sort().map((digest) => ({
    digest,
    referencedBy: [...(referencedBy.get(digest)?.values() ?? [])],
  }));
  return {
    nodes: outNodes,
    tags: outTags,
    referrers: outReferrers,
    missing: outMissing,
    unreadable: [...unreadable.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1)),
    incomplete,
    warnings,
    stats,
  };
}
