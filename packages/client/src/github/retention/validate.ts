import { definedProps } from '@ghcr/oci-types';
import type {
  ManifestNodeKind,
  ReferrerRelation,
  RegistryGraph,
  RegistryGraphNode,
  UnreadableManifest,
} from './graph.js';

/**
 * An image that does not pull completely.
 * @public
 */
export interface BrokenImage {
  readonly digest: string;
  /** The package version id, when it is one. */
  readonly versionId?: number;
  readonly tags: readonly string[];
  readonly kind: ManifestNodeKind;
  /** Manifests it lists that the registry does not have. */
  readonly missingManifests: readonly string[];
  /** Its own blobs the registry does not have (only known when blobs were checked). */
  readonly missingBlobs: readonly string[];
}

/**
 * A referrer (signature, attestation, SBOM, fallback index) whose subject is gone.
 * @public
 */
export interface OrphanedReferrer {
  readonly digest: string;
  readonly versionId?: number;
  readonly tags: readonly string[];
  /** The subject it refers to, which the registry does not have. */
  readonly subject: string;
  readonly via: ReferrerRelation;
}

/**
 * A tag whose image does not pull completely: what is missing below it.
 * @public
 */
export interface BrokenTag {
  readonly tag: string;
  readonly digest: string;
  /** Manifests and blobs reachable from the tag that are missing. */
  readonly missing: readonly string[];
}

/**
 * What {@link validateRepository} found. Nothing is changed by validating.
 * @public
 */
export interface RepositoryValidation {
  /** True when nothing below is reported. */
  readonly ok: boolean;
  /** Indexes none of whose manifests exist (every platform gone). */
  readonly ghosts: readonly BrokenImage[];
  /** Indexes with some manifests missing, and images with blobs missing. */
  readonly partialImages: readonly BrokenImage[];
  /** Referrers whose subject is gone. */
  readonly orphanedReferrers: readonly OrphanedReferrer[];
  /** Tags that do not pull completely (something reachable from them is missing). */
  readonly brokenTags: readonly BrokenTag[];
  /** Manifests that could not be read (their images could not be checked). */
  readonly unreadable: readonly UnreadableManifest[];
  /** Problems that made the graph uncertain. */
  readonly incomplete: readonly string[];
}

function brokenImageOf(node: RegistryGraphNode, missingManifests: string[]): BrokenImage {
  return {
    digest: node.digest,
    ...definedProps({ versionId: node.versionId }),
    tags: node.tags,
    kind: node.kind,
    missingManifests,
    missingBlobs: node.missingBlobs ?? [],
  };
}

/**
 * Reports broken images without changing anything: ghost images (an index whose manifests are
 * all missing), partial images (some missing, or blobs missing when they were checked), orphaned
 * referrers (subject gone), tags that would not pull completely, and what could not be read. A
 * pure function of the graph (read it with `buildRegistryGraph`, with `blobExists` to check blobs).
 * @public
 */
export function validateRepository(graph: RegistryGraph): RepositoryValidation {
  const present = (digest: string): boolean => Object.hasOwn(graph.nodes, digest);
  const unreadable = new Set(graph.unreadable.map((entry) => entry.digest));
  const absent = (digest: string): boolean => !present(digest) && !unreadable.has(digest);
  const ghosts: BrokenImage[] = [];
  const partialImages: BrokenImage[] = [];
  for (const node of Object.values(graph.nodes)) {
    const missingManifests = node.children.filter(absent);
    const missingBlobs = node.missingBlobs ?? [];
    if (node.children.length > 0 && missingManifests.length === node.children.length) {
      ghosts.push(brokenImageOf(node, missingManifests));
    } else if (missingManifests.length > 0 || missingBlobs.length > 0) {
      partialImages.push(brokenImageOf(node, missingManifests));
    }
  }
  const orphanedReferrers: OrphanedReferrer[] = [];
  for (const [subject, links] of Object.entries(graph.referrers)) {
    if (!absent(subject)) continue;
    for (const link of links) {
      const node = graph.nodes[link.digest];
      if (node === undefined) continue;
      orphanedReferrers.push({
        digest: link.digest,
        ...definedProps({ versionId: node.versionId }),
        tags: node.tags,
        subject,
        via: link.via,
      });
    }
  }
  // Tags: everything below each tag (children, recursively) and the blobs of each.
  const memo = new Map<string, readonly string[]>();
  const missingBelow = (digest: string, path: Set<string>): readonly string[] => {
    const known = memo.get(digest);
    if (known !== undefined) return known;
    if (absent(digest)) return [digest];
    const node = graph.nodes[digest];
    if (node === undefined || path.has(digest)) return [];
    path.add(digest);
    const found = new Set<string>(node.missingBlobs ?? []);
    for (const child of node.children) for (const item of missingBelow(child, path)) found.add(item);
    path.delete(digest);
    const result = [...found].sort();
    memo.set(digest, result);
    return result;
  };
  const brokenTags: BrokenTag[] = [];
  for (const [tag, digest] of Object.entries(graph.tags)) {
    const missing = missingBelow(digest, new Set());
    if (missing.length > 0) brokenTags.push({ tag, digest, missing });
  }
  const byDigest = (a: { digest: string }, b: { digest: string }): number =>
    a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0;
  ghosts.sort(byDigest);
  partialImages.sort(byDigest);
  orphanedReferrers.sort(byDigest);
  return {
    ok:
      ghosts.length === 0 &&
      partialImages.length === 0 &&
      orphanedReferrers.length === 0 &&
      brokenTags.length === 0 &&
      graph.unreadable.length === 0 &&
      graph.incomplete.length === 0,
    ghosts,
    partialImages,
    orphanedReferrers,
    brokenTags,
    unreadable: graph.unreadable,
    incomplete: graph.incomplete,
  };
}
