/**
 * The registry graph retention plans over: what each manifest of a package references, read from
 * the registry (GHCR's Packages API gives no parent/child link; ghcr-facts §3 "Multi-arch caveat").
 */

/**
 * What a manifest is, as far as retention cares.
 * - `index`: an OCI index or Docker manifest list (multi-arch image, or a referrers fallback index).
 * - `image`: a runnable image manifest.
 * - `artifact`: a manifest that is not an image: `artifactType` set, a non-image config, a
 *   `subject`, a BuildKit attestation (`unknown/unknown` entry), a cosign signature/attestation/SBOM.
 * - `placeholder`: an untag placeholder (the client's, or any empty image manifest without layers).
 * @public
 */
export type ManifestNodeKind = 'image' | 'index' | 'artifact' | 'placeholder';

/**
 * How a referrer is attached to its subject.
 * - `subject`: the referrer's own OCI 1.1 `subject` field.
 * - `referrers-tag`: the index at the subject's `sha256-<hex>` fallback tag, and each entry of it.
 * - `cosign-tag`: a cosign legacy tag `sha256-<hex>.sig`, `.att` or `.sbom`.
 * - `attestation-manifest`: a BuildKit attestation entry of an index
 *   (`vnd.docker.reference.type: attestation-manifest`, `vnd.docker.reference.digest: <image>`).
 * @public
 */
export type ReferrerRelation = 'subject' | 'referrers-tag' | 'cosign-tag' | 'attestation-manifest';

/**
 * One referrer of a subject.
 * @public
 */
export interface ReferrerLink {
  /** The referrer's digest. */
  readonly digest: string;
  readonly via: ReferrerRelation;
  /** The tag that makes the link (`referrers-tag`, `cosign-tag`). */
  readonly tag?: string;
}

/**
 * One manifest of the graph.
 * @public
 */
export interface RegistryGraphNode {
  readonly digest: string;
  readonly kind: ManifestNodeKind;
  /** The media type it was read as. */
  readonly mediaType: string;
  /** `artifactType`, or for an image manifest with a non-image config, the config's media type. */
  readonly artifactType?: string;
  /**
   * The package version id. Absent for a manifest that is no version of the package but was found
   * through a tag or a reference (it cannot be deleted, and everything it reaches is kept).
   */
  readonly versionId?: number;
  /** Every tag pointing at it (the versions' tags and the registry's tag list). */
  readonly tags: readonly string[];
  /** The manifests an index lists, in order (empty for other kinds). */
  readonly children: readonly string[];
  /** The `subject` digest, when it has one. */
  readonly subject?: string;
  /** Config and layer digests (empty for an index). */
  readonly blobs: readonly string[];
  /** Blobs the registry did not have, when blobs were checked (`blobExists`). */
  readonly missingBlobs?: readonly string[];
}

/**
 * A manifest that could not be read. Retention fails closed on it: nothing is deleted.
 * @public
 */
export interface UnreadableManifest {
  readonly digest: string;
  /** The package version id, when it is one. */
  readonly versionId?: number;
  /** What went wrong, and what to do. */
  readonly reason: string;
  /** The error code (`MANIFEST_UNKNOWN`, `GHCR_RATE_LIMITED`, …), when there was an error. */
  readonly code?: string;
}

/**
 * A manifest that is referenced but absent from the registry (the registry answered 404).
 * @public
 */
export interface MissingManifest {
  readonly digest: string;
  /** Who references it, and how. */
  readonly referencedBy: readonly {
    readonly digest: string;
    readonly relation: 'child' | ReferrerRelation;
  }[];
}

/**
 * The graph of one package, as read from the registry before anything is planned. Plain data:
 * JSON-serialisable, and enough to plan and validate without further requests.
 * @public
 */
export interface RegistryGraph {
  /** Every manifest read, by digest: the package's versions, and manifests found through tags or references. */
  readonly nodes: Readonly<Record<string, RegistryGraphNode>>;
  /** Tag → digest, for every tag known (the versions' and the registry's). */
  readonly tags: Readonly<Record<string, string>>;
  /** Subject digest → its referrers (present or not). */
  readonly referrers: Readonly<Record<string, readonly ReferrerLink[]>>;
  /** Referenced manifests the registry does not have. */
  readonly missing: readonly MissingManifest[];
  /** Manifests that could not be read (fail closed). */
  readonly unreadable: readonly UnreadableManifest[];
  /** Problems that make the whole graph uncertain (the tag list failed, a tag could not be resolved): fail closed. */
  readonly incomplete: readonly string[];
  /** Things worth knowing that do not block (a blob check that failed). */
  readonly warnings: readonly string[];
  /** Requests made: manifest GETs (each counts as a download on GHCR), cache hits, blob checks. */
  readonly stats: {
    readonly manifestsFetched: number;
    readonly cacheHits: number;
    readonly blobsChecked: number;
  };
}
