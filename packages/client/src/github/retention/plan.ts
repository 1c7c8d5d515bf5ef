import { definedProps, InvalidInputError } from '@ghcr/oci-types';
import { formatDuration } from './duration.js';
import type { ManifestNodeKind, RegistryGraph, RegistryGraphNode, UnreadableManifest } from './graph.js';
import { type Anchor, type GraphIndex, indexGraph, isAttachmentTag, reachableFrom } from './graph-index.js';
import { deletionOrder } from './order.js';
import { compileTagPattern, firstMatch, type TagPattern } from './patterns.js';
import { parseRetentionPolicy, type ResolvedRetentionPolicy, type RetentionPolicy } from './policy.js';
import { type BrokenImage, type OrphanedReferrer, validateRepository } from './validate.js';
import { type NormalizedVersion, normalizeVersions, type RetentionVersionInput } from './versions.js';

/**
 * The rule behind a decision.
 *
 * Keep: `keep-tags`, `keep-digests`, `keep-newest-tagged`, `keep-newest-untagged`,
 * `newer-than-cutoff` (not older than `olderThan`), `untagged-only` (a tagged image under
 * `untaggedOnly`), `no-tagged-rule` (a tagged image, and no rule about tagged images),
 * `delete-tags-unmatched` (a tag outside `deleteTags`), `child-of-kept` (listed by a kept index),
 * `referrer-of-kept` (a signature, attestation or SBOM of a kept manifest), `unreadable`,
 * `graph-incomplete` (fail closed),
 * `last-version`, `last-tagged-version`.
 *
 * Delete: `untagged` (an untagged root), `delete-tags`, `older-than`, `beyond-newest-tagged`,
 * `beyond-newest-untagged`, `parent-deleted` (everything it hangs from is deleted).
 * @public
 */
export type RetentionRule =
  | 'keep-tags'
  | 'keep-digests'
  | 'keep-newest-tagged'
  | 'keep-newest-untagged'
  | 'newer-than-cutoff'
  | 'untagged-only'
  | 'no-tagged-rule'
  | 'delete-tags-unmatched'
  | 'child-of-kept'
  | 'referrer-of-kept'
  | 'unreadable'
  | 'graph-incomplete'
  | 'last-version'
  | 'last-tagged-version'
  | 'untagged'
  | 'delete-tags'
  | 'older-than'
  | 'beyond-newest-tagged'
  | 'beyond-newest-untagged'
  | 'parent-deleted';

/**
 * Why a version is kept or deleted: the rule, a sentence, and what it names.
 * @public
 */
export interface RetentionReason {
  readonly rule: RetentionRule;
  /** For people: e.g. `platform manifest of kept index sha256:ab12… (1.2.0, latest)`. */
  readonly message: string;
  /** The tag the rule matched. */
  readonly tag?: string;
  /** The pattern that matched it. */
  readonly pattern?: string;
  /** The parent or subject (digest) for `child-of-kept`, `referrer-of-kept`, `parent-deleted`. */
  readonly related?: string;
  /** How it hangs from `related`. */
  readonly relation?: Anchor['relation'];
  /** Position among the newest (1 = newest) for the count rules. */
  readonly rank?: number;
  /** Age in ms (by the policy's timestamp) for `older-than` and `newer-than-cutoff`. */
  readonly ageMs?: number;
}

/**
 * The decision on one package version.
 * @public
 */
export interface RetentionDecision {
  readonly id: number;
  readonly digest: string;
  readonly tags: readonly string[];
  /** From the graph; `unknown` when its manifest could not be read. */
  readonly kind: ManifestNodeKind | 'unknown';
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
  readonly action: 'keep' | 'delete';
  /** Why (every applicable reason; the first is the main one). */
  readonly reasons: readonly RetentionReason[];
  /** For a kept version that the rules selected: the selection that closure or a last-version rule overrode. */
  readonly overridden?: readonly RetentionReason[];
  /** For a deleted version: ids of deleted versions that must be deleted first (its parents). */
  readonly deleteAfter: readonly number[];
}

/**
 * A warning: something to know, nothing that stops the plan.
 * @public
 */
export interface RetentionWarning {
  /** `policy-ineffective`, `delete-tags-partial`, `graph-incomplete`, `orphaned-referrer`, `broken-image`, `graph`. */
  readonly code: string;
  readonly message: string;
  readonly digest?: string;
  readonly versionId?: number;
}

/**
 * What {@link planRetention} decided. Plain data (JSON-serialisable): store it, show it, execute
 * it with `executePlan`.
 * @public
 */
export interface RetentionPlan {
  /** The time the plan was made for (ISO 8601). */
  readonly now: string;
  readonly policy: ResolvedRetentionPolicy;
  /** True when reading the graph failed somewhere: nothing is deleted (fail closed). */
  readonly blocked: boolean;
  /** One decision per active version, newest first. */
  readonly decisions: readonly RetentionDecision[];
  /** Ids of the versions to delete, parents before children (an index before its manifests). */
  readonly deleteOrder: readonly number[];
  readonly summary: { readonly versions: number; readonly keep: number; readonly delete: number };
  readonly warnings: readonly RetentionWarning[];
  /** Indexes none of whose manifests exist. */
  readonly ghosts: readonly BrokenImage[];
  /** Indexes with some manifests (or blobs) missing. */
  readonly partialImages: readonly BrokenImage[];
  /** Referrers whose subject is gone. */
  readonly orphanedReferrers: readonly OrphanedReferrer[];
  /** Manifests that could not be read. */
  readonly unreadable: readonly UnreadableManifest[];
}

interface VersionState {
  readonly version: NormalizedVersion;
  readonly node: RegistryGraphNode | undefined;
  readonly tags: readonly string[];
  readonly userTags: readonly string[];
  readonly anchors: readonly Anchor[];
  readonly root: boolean;
  /** Kept by its own rule (not closure). */
  keep?: RetentionReason[];
  /** Selected for deletion by the rules. */
  select?: RetentionReason[];
}

function short(digest: string): string {
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 24) : `${digest.slice(0, colon + 13)}…`;
}

function named(node: RegistryGraphNode | undefined, digest: string): string {
  const tags = node?.tags ?? [];
  const label = node === undefined ? 'manifest' : node.kind;
  return `${label} ${short(digest)}${tags.length === 0 ? '' : ` (${tags.slice(0, 3).join(', ')}${tags.length > 3 ? ', …' : ''})`}`;
}

const RELATION_WORDS: Record<Anchor['relation'], string> = {
  child: 'manifest listed by',
  subject: 'referrer (subject) of',
  'referrers-tag': 'referrer (fallback tag) of',
  'cosign-tag': 'cosign signature/attestation of',
  'attestation-manifest': 'BuildKit attestation of',
};

const newestFirst = (a: VersionState, b: VersionState): number =>
  b.version.createdAt - a.version.createdAt || b.version.id - a.version.id;

/**
 * Plans retention for one package: a pure function of the versions, the graph read from the
 * registry, the policy and the time. Nothing is read or deleted here.
 *
 * Rules combine in this order (see `retentionPolicySchema` for each rule):
 * 1. **Roots and dependents.** A version with a tag of its own (not an attachment tag
 *    `sha256-<hex>`/`.sig`/`.att`/`.sbom`), or one that nothing present refers to, is a root;
 *    anything else (platform manifests, attestations, signatures, fallback indexes) is a
 *    dependent, decided only by step 4.
 * 2. **Selection** of roots: tagged ones only when `deleteTags` (every tag must match) or
 *    `keepNewestTagged` is given, never under `untaggedOnly`; untagged ones always. Both only
 *    when older than `olderThan` (when given): age filters, it never selects a tagged image alone.
 * 3. **Protection**, which wins: `keepTags` (any tag, attachment tags included), `keepDigests`,
 *    the newest `keepNewestTagged` / `keepNewestUntagged` roots by `created_at` (counting images,
 *    not tags; ranked before the age filter, so `olderThan` only ever removes the oldest).
 * 4. **Closure**: everything reachable from a kept version (index → manifests, subject →
 *    referrers through `subject`, fallback tags, cosign tags and BuildKit attestation entries,
 *    recursively) is kept, with the parent named; a manifest shared by a kept and a deleted index
 *    is kept. Dependents not reached are deleted, after their parents.
 * 5. **Fail closed**: any unreadable manifest, unreadable tag list, or version absent from the
 *    graph keeps every version (`graph-incomplete`).
 * 6. **Last versions**: the newest root is kept when everything would go (`last-version`), and
 *    the newest tagged version when every tagged one would (`last-tagged-version`), then step 4
 *    runs again.
 *
 * @param versions - every active version of the package (Packages API objects or `RetentionVersion`s).
 * @param graph - from `buildRegistryGraph` over the same versions.
 * @param policy - a `RetentionPolicy` (validated here).
 * @param now - the time ages are measured from (epoch ms or a Date).
 * @throws ConfigError for an invalid policy; InvalidInputError for an invalid version or time.
 * @public
 */
export function planRetention(
  versions: readonly RetentionVersionInput[],
  graph: RegistryGraph,
  policy: RetentionPolicy,
  now: number | Date,
): RetentionPlan {
  const nowMs = typeof now === 'number' ? now : now.getTime();
  if (!Number.isFinite(nowMs)) {
    throw new InvalidInputError('planRetention: now is not a valid time; pass epoch milliseconds or a Date');
  }
  const resolved = parseRetentionPolicy(policy);
  const normalized = normalizeVersions(versions);
  const index = indexGraph(graph);
  const validation = validateRepository(graph);
  const warnings: RetentionWarning[] = [];
  const keepPatterns = resolved.keepTags.map(compileTagPattern);
  const deletePatterns = resolved.deleteTags.map(compileTagPattern);
  const keepDigests = new Set<string>(resolved.keepDigests);

  const states = normalized.map((version): VersionState => {
    const node = index.node(version.digest);
    const tags = [...new Set([...version.tags, ...(node?.tags ?? [])])].sort();
    const userTags = tags.filter((tag) => !isAttachmentTag(tag));
    const anchors = index.anchors(version.digest);
    return { version, node, tags, userTags, anchors, root: userTags.length > 0 || anchors.length === 0 };
  });
  const byDigest = new Map(states.map((state) => [state.version.digest, state]));

  // 5. Fail closed.
  const unreadableByDigest = new Map(graph.unreadable.map((entry) => [entry.digest, entry]));
  const problems: string[] = [...graph.incomplete, ...graph.unreadable.map((entry) => entry.reason)];
  for (const state of states) {
    if (state.node === undefined && !unreadableByDigest.has(state.version.digest)) {
      problems.push(
        `package version ${state.version.id} (${short(state.version.digest)}) is not in the graph; read the graph again from the same list of versions`,
      );
    } else if (state.node !== undefined && state.node.versionId !== state.version.id) {
      problems.push(
        `package version ${state.version.id} (${short(state.version.digest)}) is version ${String(state.node.versionId)} in the graph; read the graph again from the same list of versions`,
      );
    }
  }
  if (problems.length > 0) {
    const message = `nothing is deleted: ${problems.length} problem(s) reading the registry, e.g. ${problems[0]}`;
    warnings.push({ code: 'graph-incomplete', message });
    for (const state of states) {
      const unreadable = unreadableByDigest.get(state.version.digest);
      state.keep = [
        ...(unreadable === undefined ? [] : [{ rule: 'unreadable' as const, message: unreadable.reason }]),
        { rule: 'graph-incomplete', message },
      ];
    }
    return finish(resolved, nowMs, index, states, byDigest, warnings, validation, true);
  }

  if (resolved.untaggedOnly && (deletePatterns.length > 0 || resolved.keepNewestTagged !== undefined)) {
    warnings.push({
      code: 'policy-ineffective',
      message:
        'untaggedOnly is set, so deleteTags and keepNewestTagged have no effect: no tagged image is deleted',
    });
  }

  // 3 (part). Protection by keepTags and keepDigests applies to every version.
  const protection = (state: VersionState): RetentionReason[] | undefined => {
    if (keepDigests.has(state.version.digest)) {
      return [{ rule: 'keep-digests', message: `digest ${short(state.version.digest)} is in keepDigests` }];
    }
    for (const tag of state.tags) {
      const pattern = firstMatch(keepPatterns, tag);
      if (pattern !== undefined) {
        return [
          {
            rule: 'keep-tags',
            message: `tag ${tag} matches keepTags ${pattern.source}`,
            tag,
            pattern: pattern.source,
          },
        ];
      }
    }
    return undefined;
  };
  const timestampOf = (state: VersionState): number =>
    resolved.timestamp === 'updated_at' ? state.version.updatedAt : state.version.createdAt;
  const ageOf = (state: VersionState): number => nowMs - timestampOf(state);
  const olderThan = resolved.olderThan;
  const cutoffReason = (state: VersionState): RetentionReason => ({
    rule: 'newer-than-cutoff',
    message: `${resolved.timestamp} ${formatDuration(ageOf(state))} ago is within olderThan ${formatDuration(olderThan ?? 0)}`,
    ageMs: ageOf(state),
  });
  const olderReason = (state: VersionState): RetentionReason => ({
    rule: 'older-than',
    message: `${resolved.timestamp} ${formatDuration(ageOf(state))} ago is older than ${formatDuration(olderThan ?? 0)}`,
    ageMs: ageOf(state),
  });
  const isOld = (state: VersionState): boolean => olderThan === undefined || ageOf(state) > olderThan;

  // 2 + 3. Tagged roots.
  const taggedRuleGiven = deletePatterns.length > 0 || resolved.keepNewestTagged !== undefined;
  const eligibleTagged: VersionState[] = [];
  for (const state of states) {
    if (!state.root || state.userTags.length === 0) continue;
    const protectedBy = protection(state);
    if (protectedBy !== undefined) state.keep = protectedBy;
    else if (resolved.untaggedOnly) {
      state.keep = [{ rule: 'untagged-only', message: 'tagged, and untaggedOnly is set' }];
    } else if (!taggedRuleGiven) {
      state.keep = [
        {
          rule: 'no-tagged-rule',
          message: 'tagged, and no rule deletes tagged images (deleteTags or keepNewestTagged)',
        },
      ];
    } else if (deletePatterns.length > 0 && unmatched(deletePatterns, state.userTags) !== undefined) {
      const tag = unmatched(deletePatterns, state.userTags) as string;
      state.keep = [
        { rule: 'delete-tags-unmatched', message: `tag ${tag} matches no deleteTags pattern`, tag },
      ];
      const matching = state.userTags.filter((candidate) => firstMatch(deletePatterns, candidate));
      if (matching.length > 0) {
        warnings.push({
          code: 'delete-tags-partial',
          message: `version ${state.version.id} (${short(state.version.digest)}) is kept for tag ${tag}; its tags ${matching.join(', ')} match deleteTags: untag them (client.versions.untagAndDelete) if they should go`,
          digest: state.version.digest,
          versionId: state.version.id,
        });
      }
    } else eligibleTagged.push(state);
  }
  eligibleTagged.sort(newestFirst);
  eligibleTagged.forEach((state, position) => {
    const rank = position + 1;
    const limit = resolved.keepNewestTagged;
    if (limit !== undefined && position < limit) {
      state.keep = [
        {
          rule: 'keep-newest-tagged',
          message: `newest tagged image #${rank} of keepNewestTagged ${limit}`,
          rank,
        },
      ];
    } else if (!isOld(state)) state.keep = [cutoffReason(state)];
    else {
      const select: RetentionReason[] = [];
      if (deletePatterns.length > 0) {
        const tag = state.userTags[0] as string;
        const pattern = firstMatch(deletePatterns, tag) as TagPattern;
        select.push({
          rule: 'delete-tags',
          message: `every tag (${state.userTags.join(', ')}) matches deleteTags`,
          tag,
          pattern: pattern.source,
        });
      }
      if (olderThan !== undefined) select.push(olderReason(state));
      if (limit !== undefined) {
        select.push({
          rule: 'beyond-newest-tagged',
          message: `tagged image #${rank}, beyond keepNewestTagged ${limit}`,
          rank,
        });
      }
      state.select = select;
    }
  });

  // 2 + 3. Untagged roots (untag placeholders are not counted by keepNewestUntagged).
  const eligibleUntagged: VersionState[] = [];
  for (const state of states) {
    if (!state.root || state.userTags.length > 0) continue;
    const protectedBy = protection(state);
    if (protectedBy !== undefined) state.keep = protectedBy;
    else eligibleUntagged.push(state);
  }
  eligibleUntagged.sort(newestFirst);
  const orphans = new Map(validation.orphanedReferrers.map((entry) => [entry.digest, entry]));
  let untaggedRank = 0;
  for (const state of eligibleUntagged) {
    const placeholder = state.node?.kind === 'placeholder';
    if (!placeholder) untaggedRank += 1;
    const limit = resolved.keepNewestUntagged;
    if (!placeholder && limit !== undefined && untaggedRank <= limit) {
      state.keep = [
        {
          rule: 'keep-newest-untagged',
          message: `newest untagged image #${untaggedRank} of keepNewestUntagged ${limit}`,
          rank: untaggedRank,
        },
      ];
    } else if (!isOld(state)) state.keep = [cutoffReason(state)];
    else {
      const orphanOf = orphans.get(state.version.digest);
      const select: RetentionReason[] = [
        {
          rule: 'untagged',
          message:
            orphanOf !== undefined
              ? `orphaned referrer: its subject ${short(orphanOf.subject)} is gone`
              : state.node?.kind === 'placeholder'
                ? 'untag placeholder'
                : 'untagged, and nothing present refers to it',
        },
      ];
      if (olderThan !== undefined) select.push(olderReason(state));
      if (limit !== undefined && !placeholder) {
        select.push({
          rule: 'beyond-newest-untagged',
          message: `untagged image #${untaggedRank}, beyond keepNewestUntagged ${limit}`,
          rank: untaggedRank,
        });
      }
      state.select = select;
    }
  }

  // Dependents: only keepTags / keepDigests protect them directly.
  for (const state of states) {
    if (state.root) continue;
    const protectedBy = protection(state);
    if (protectedBy !== undefined) state.keep = protectedBy;
  }

  // 4 + 6. Closure, then the last-version rules (each followed by closure again).
  let kept = closure(index, states);
  const keptVersions = (): VersionState[] => states.filter((state) => kept.has(state.version.digest));
  if (states.length > 0 && keptVersions().length === 0) {
    const chosen =
      [...states].filter((s) => s.root && s.userTags.length > 0).sort(newestFirst)[0] ??
      [...states].filter((s) => s.root).sort(newestFirst)[0] ??
      [...states].sort(newestFirst)[0];
    if (chosen !== undefined) {
      chosen.keep = [
        {
          rule: 'last-version',
          message:
            'the plan would delete every version; GitHub refuses to delete the last one (delete the package instead), so the newest is kept',
        },
      ];
      kept = closure(index, states);
    }
  }
  const tagged = states.filter((state) => state.tags.length > 0);
  if (tagged.length > 0 && !tagged.some((state) => kept.has(state.version.digest))) {
    const chosen =
      tagged.filter((s) => s.userTags.length > 0).sort(newestFirst)[0] ?? [...tagged].sort(newestFirst)[0];
    if (chosen !== undefined) {
      chosen.keep = [
        {
          rule: 'last-tagged-version',
          message:
            'the plan would delete every tagged version; GitHub refuses to delete the last tagged one, so the newest is kept',
        },
      ];
      kept = closure(index, states);
    }
  }
  return finish(resolved, nowMs, index, states, byDigest, warnings, validation, false, kept);
}

function unmatched(patterns: readonly TagPattern[], tags: readonly string[]): string | undefined {
  return tags.find((tag) => firstMatch(patterns, tag) === undefined);
}

/** Digests kept: versions kept by a rule, manifests that are no version, and all they reach. */
function closure(index: GraphIndex, states: readonly VersionState[]): ReadonlySet<string> {
  const roots: string[] = [];
  for (const state of states) if (state.keep !== undefined) roots.push(state.version.digest);
  for (const node of Object.values(index.graph.nodes))
    if (node.versionId === undefined) roots.push(node.digest);
  return new Set(reachableFrom(index, roots).keys());
}

function finish(
  policy: ResolvedRetentionPolicy,
  nowMs: number,
  index: GraphIndex,
  states: readonly VersionState[],
  byDigest: ReadonlyMap<string, VersionState>,
  warnings: RetentionWarning[],
  validation: ReturnType<typeof validateRepository>,
  blocked: boolean,
  kept?: ReadonlySet<string>,
): RetentionPlan {
  const isKept = (state: VersionState): boolean =>
    state.keep !== undefined || (kept?.has(state.version.digest) ?? true);
  const deleted = new Set(states.filter((state) => !isKept(state)).map((state) => state.version.digest));

  // Parents first (an index before its manifests, a subject before its referrers); inside a cycle
  // through a tag, an index before what it lists.
  const idOf = (digest: string): number => (byDigest.get(digest) as VersionState).version.id;
  const order = deletionOrder(
    [...deleted],
    (digest) => (byDigest.get(digest) as VersionState).anchors.map((anchor) => anchor.digest),
    idOf,
    (digest) =>
      (byDigest.get(digest) as VersionState).anchors
        .filter((anchor) => anchor.relation === 'child')
        .map((anchor) => anchor.digest),
  );
  const position = new Map(order.map((digest, i) => [digest, i]));

  const decisions = [...states].sort(newestFirst).map((state): RetentionDecision => {
    const base = {
      id: state.version.id,
      digest: state.version.digest,
      tags: state.tags,
      kind: state.node?.kind ?? ('unknown' as const),
      createdAt: new Date(state.version.createdAt).toISOString(),
      updatedAt: new Date(state.version.updatedAt).toISOString(),
    };
    if (state.keep !== undefined) {
      return {
        ...base,
        action: 'keep',
        reasons: state.keep,
        ...definedProps({ overridden: state.select }),
        deleteAfter: [],
      };
    }
    if (!deleted.has(state.version.digest)) {
      const reasons = state.anchors
        .filter((anchor) => kept?.has(anchor.digest) === true)
        .map(
          (anchor): RetentionReason => ({
            rule: anchor.relation === 'child' ? 'child-of-kept' : 'referrer-of-kept',
            message: `${RELATION_WORDS[anchor.relation]} kept ${named(index.node(anchor.digest), anchor.digest)}${anchor.tag === undefined ? '' : ` via tag ${anchor.tag}`}`,
            related: anchor.digest,
            relation: anchor.relation,
            ...definedProps({ tag: anchor.tag }),
          }),
        );
      return {
        ...base,
        action: 'keep',
        reasons,
        ...definedProps({ overridden: state.select }),
        deleteAfter: [],
      };
    }
    const own = position.get(state.version.digest) ?? 0;
    const deleteAfter = state.anchors
      .map((anchor) => anchor.digest)
      .filter((digest, i, all) => all.indexOf(digest) === i)
      .filter((digest) => deleted.has(digest) && (position.get(digest) ?? Number.POSITIVE_INFINITY) < own)
      .map(idOf)
      .sort((a, b) => a - b);
    const reasons =
      state.select ??
      state.anchors.map(
        (anchor): RetentionReason => ({
          rule: 'parent-deleted',
          message: `${RELATION_WORDS[anchor.relation]} ${named(index.node(anchor.digest), anchor.digest)}, which is deleted`,
          related: anchor.digest,
          relation: anchor.relation,
          ...definedProps({ tag: anchor.tag }),
        }),
      );
    return { ...base, action: 'delete', reasons, deleteAfter };
  });

  for (const ghost of validation.ghosts) {
    warnings.push({
      code: 'broken-image',
      message: `ghost image ${named(index.node(ghost.digest), ghost.digest)}: none of its ${ghost.missingManifests.length} manifests exist`,
      digest: ghost.digest,
      ...definedProps({ versionId: ghost.versionId }),
    });
  }
  for (const partial of validation.partialImages) {
    warnings.push({
      code: 'broken-image',
      message: `partial image ${named(index.node(partial.digest), partial.digest)}: ${partial.missingManifests.length} manifest(s) and ${partial.missingBlobs.length} blob(s) missing`,
      digest: partial.digest,
      ...definedProps({ versionId: partial.versionId }),
    });
  }
  for (const orphan of validation.orphanedReferrers) {
    warnings.push({
      code: 'orphaned-referrer',
      message: `${named(index.node(orphan.digest), orphan.digest)} refers (${orphan.via}) to ${short(orphan.subject)}, which is gone; it is planned like any untagged image (keepTags: ['sha256-*'] keeps such tags, e.g. for signatures of images in another repository)`,
      digest: orphan.digest,
      ...definedProps({ versionId: orphan.versionId }),
    });
  }
  for (const message of index.graph.warnings) warnings.push({ code: 'graph', message });

  const deleteCount = decisions.filter((decision) => decision.action === 'delete').length;
  return {
    now: new Date(nowMs).toISOString(),
    policy,
    blocked,
    decisions,
    deleteOrder: order.map(idOf),
    summary: { versions: decisions.length, keep: decisions.length - deleteCount, delete: deleteCount },
    warnings,
    ghosts: validation.ghosts,
    partialImages: validation.partialImages,
    orphanedReferrers: validation.orphanedReferrers,
    unreadable: index.graph.unreadable,
  };
}
