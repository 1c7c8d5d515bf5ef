import type { ParsedManifest } from '@ghcr/manifest';
import { definedProps, GhcrError, InvalidInputError } from '@ghcr/oci-types';
import { buildRegistryGraph, type GraphReadOptions, type ManifestCache } from './build-graph.js';
import type { RegistryGraph } from './graph.js';
import { type GraphIndex, indexGraph, reachableFrom } from './graph-index.js';
import type { RetentionDecision, RetentionPlan } from './plan.js';
import { type NormalizedVersion, normalizeVersion, type RetentionVersionInput } from './versions.js';

/**
 * What `executePlan` reads to look again before each delete batch (see
 * `ExecutePlanOptions.revalidate`): the graph the plan was made from, and the registry and
 * Packages API as they are now. `client.retention.revalidation(repository, graph, …)` builds one.
 * @public
 */
export interface RevalidationSource {
  /** The graph the plan was made from (`readGraph` over the same versions). */
  readonly graph: RegistryGraph;
  /** Lists the registry's tags (e.g. `(o) => client.tags.list(repository, o)`). */
  listTags(options: GraphReadOptions): Promise<readonly string[]>;
  /**
   * The package's active versions, newest first, one page at a time as iterated (e.g.
   * `(o) => client.versions.iterate(repository, o)`). Iteration stops at the first version the
   * plan knew that has not changed, so usually one page (100 versions) is read per batch.
   */
  listVersions(options: GraphReadOptions): AsyncIterable<RetentionVersionInput>;
  /** Reads one manifest by digest (e.g. `(digest, o) => client.manifests.get(repository, digest, o)`). */
  fetchManifest(digest: string, options: GraphReadOptions): Promise<ParsedManifest>;
  /** Resolves a tag to a digest (a HEAD), or undefined when it is gone. */
  resolveTag(tag: string, options: GraphReadOptions): Promise<string | undefined>;
  /** Manifests already read, by digest; new manifests are read once per run. If omitted, one per run. */
  readonly cache?: ManifestCache;
}

/**
 * What looking again found for one version the plan deletes.
 * @internal
 */
export interface RevalidationFinding {
  /** A sentence: why it must not be deleted now. */
  readonly why: string;
}

/**
 * The result of one look: versions that became reachable, and fresh times of changed versions.
 * @internal
 */
export interface RevalidationResult {
  /** Plan-deleted version id → why it is now needed. */
  readonly reachable: ReadonlyMap<number, RevalidationFinding>;
  /** Version id → its `updated_at` now (epoch ms), for versions seen changed since the plan. */
  readonly updatedAt: ReadonlyMap<number, number>;
  /** Set when what changed could not be read completely: delete nothing more (fail closed). */
  readonly problem?: string;
}

/**
 * Requests and work done by revalidation during one run.
 * @public
 */
export interface RevalidationStats {
  /** Looks taken (one per delete batch). */
  readonly checks: number;
  /** Tag listings (one per look). */
  readonly tagLists: number;
  /** Versions read from the Packages API (newest first; 100 a page). */
  readonly versionsRead: number;
  /** Tags resolved by HEAD (tags new since the plan that no new version carries). */
  readonly tagsResolved: number;
  /** Manifests read (new since the plan; each once per run). */
  readonly manifestsFetched: number;
}

/** @internal */
export interface Revalidator {
  /** Looks again; `pending` are the plan's deletions not yet done. Rejects when a read fails. */
  check(pending: readonly RetentionDecision[], signal: AbortSignal | undefined): Promise<RevalidationResult>;
  readonly stats: RevalidationStats;
}

function short(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 24) : `${digest.slice(0, colon + 13)}…`;
}

function describeError(error: unknown): string {
  if (GhcrError.isInstance(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** An index over the plan's graph and a delta read since: dependents from either. */
function combine(base: GraphIndex, delta: GraphIndex): GraphIndex {
  return {
    graph: delta.graph,
    node: (digest) => delta.node(digest) ?? base.node(digest),
    anchors: (digest) => [...base.anchors(digest), ...delta.anchors(digest)],
    dependents: (digest) => {
      const extra = delta.dependents(digest);
      return extra.length === 0
        ? base.dependents(digest)
        : [...new Set([...base.dependents(digest), ...extra])];
    },
  };
}

/**
 * Looks at what changed since a plan: tags the plan's graph did not have, versions it did not know
 * (or that changed), the manifests they name (read once by digest, stopping at manifests the plan's
 * graph already has); then what of the plan's deletions they reach, by the planner's own closure
 * (`reachableFrom` over the graph's dependents). A failed read rejects, and a manifest that cannot
 * be read gives `problem`: either way the caller deletes nothing more (fail closed).
 * @internal
 */
export function createRevalidator(plan: RetentionPlan, source: RevalidationSource): Revalidator {
  const graph = source.graph;
  const decisions = new Map(plan.decisions.map((decision) => [decision.id, decision]));
  for (const decision of plan.decisions) {
    const node = graph.nodes[decision.digest];
    if (node !== undefined && node.versionId !== undefined && node.versionId !== decision.id) {
      throw new InvalidInputError(
        `revalidate.graph is not the plan's graph: version ${decision.id} is version ${node.versionId} there; pass the graph the plan was made from`,
      );
    }
  }
  const known = new Set(Object.keys(graph.nodes));
  const baseIndex = indexGraph(graph);
  const cache: ManifestCache = source.cache ?? new Map<string, ParsedManifest>();
  const stats = { checks: 0, tagLists: 0, versionsRead: 0, tagsResolved: 0, manifestsFetched: 0 };
  const plannedTime = (decision: RetentionDecision): number => Date.parse(decision.updatedAt);

  return {
    stats,
    async check(pending, signal) {
      stats.checks += 1;
      const read: GraphReadOptions = signal === undefined ? {} : { signal };
      // 1. The tag list, once.
      stats.tagLists += 1;
      const tags = await source.listTags(read);

      // 2. Versions new or changed since the plan: newest first, until one the plan knew unchanged.
      const fresh: NormalizedVersion[] = [];
      const updatedAt = new Map<number, number>();
      for await (const input of source.listVersions(read)) {
        stats.versionsRead += 1;
        const version = normalizeVersion(input);
        if (version === undefined) continue;
        const decision = decisions.get(version.id);
        if (decision === undefined) {
          fresh.push(version);
          continue;
        }
        const sameTags =
          version.tags.length === decision.tags.filter((tag) => graph.tags[tag] === decision.digest).length &&
          version.tags.every((tag) => decision.tags.includes(tag));
        if (version.updatedAt <= plannedTime(decision) && sameTags) break;
        updatedAt.set(version.id, version.updatedAt);
        fresh.push(version);
      }

      // 3. Tags the plan did not have, or that moved: from the fresh versions, else by HEAD.
      const target = new Map<string, string>();
      const carried = new Map<string, string>();
      for (const version of fresh) for (const tag of version.tags) carried.set(tag, version.digest);
      for (const [tag, digest] of carried) if (graph.tags[tag] !== digest) target.set(tag, digest);
      for (const tag of new Set(tags)) {
        if (Object.hasOwn(graph.tags, tag) || carried.has(tag)) continue;
        stats.tagsResolved += 1;
        const digest = await source.resolveTag(tag, read);
        if (digest !== undefined) target.set(tag, digest);
      }

      // 4. The manifests they name, and what those reference, up to what the plan's graph has.
      const delta = await buildRegistryGraph({
        versions: fresh.map((version) => ({ ...version, tags: [] })),
        fetchManifest: async (digest, options) => {
          stats.manifestsFetched += 1;
          return source.fetchManifest(digest, options);
        },
        listTags: async () => [...target.keys()],
        resolveTag: async (tag) => target.get(tag),
        cache,
        known,
        ...definedProps({ signal }),
      });
      const problems = [...delta.incomplete, ...delta.unreadable.map((entry) => entry.reason)];
      const problem = problems[0];
      if (problem !== undefined) return { reachable: new Map(), updatedAt, problem };
      // Plan nodes the delta references, so the delta's index links to them.
      const linked: Record<string, RegistryGraph['nodes'][string]> = { ...delta.nodes };
      const link = (digest: string): void => {
        const node = graph.nodes[digest];
        if (node !== undefined && !Object.hasOwn(linked, digest)) linked[digest] = node;
      };
      for (const node of Object.values(delta.nodes)) {
        for (const child of node.children) link(child);
        if (node.subject !== undefined) link(node.subject);
      }
      for (const [subject, links] of Object.entries(delta.referrers)) {
        link(subject);
        for (const entry of links) link(entry.digest);
      }
      const index = combine(baseIndex, indexGraph({ ...delta, nodes: linked }));

      // 5. The closure of what changed: the new versions, and the targets of new or moved tags.
      const roots = new Map<string, string>();
      for (const [tag, digest] of target) {
        if (!roots.has(digest)) roots.set(digest, `referenced by tag ${tag}, pushed after the plan`);
      }
      for (const version of fresh) {
        if (roots.has(version.digest) || decisions.has(version.id)) continue;
        const kind = delta.nodes[version.digest]?.kind ?? 'manifest';
        roots.set(
          version.digest,
          `referenced by version ${version.id} (${kind} ${short(version.digest)}), pushed after the plan`,
        );
      }
      const reached = reachableFrom(index, roots.keys());
      const reachable = new Map<number, RevalidationFinding>();
      for (const decision of pending) {
        if (!reached.has(decision.digest)) continue;
        let root = decision.digest;
        for (let from = reached.get(root); from !== undefined; from = reached.get(root)) root = from;
        const why = roots.get(root) ?? 'reachable from what was pushed after the plan';
        const via = reached.get(decision.digest);
        const through =
          via === undefined ? '' : ` (through ${index.node(via)?.kind ?? 'manifest'} ${short(via)})`;
        reachable.set(decision.id, { why: `${why}${through}` });
      }
      return { reachable, updatedAt };
    },
  };
}

/** A sentence for a failed look. @internal */
export function revalidationFailure(error: unknown): string {
  const what = typeof error === 'string' ? error : describeError(error);
  return `could not look at the registry again before deleting (${what}); nothing more is deleted: run again`;
}
