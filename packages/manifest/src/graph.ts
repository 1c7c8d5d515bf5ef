import { type Descriptor, type Digest, InvalidInputError, parseDigest } from '@ghcr/oci-types';
import type { ParsedManifest } from './kinds.js';

/**
 * How a child is referenced by its parent manifest.
 * @public
 */
export type ChildRole = 'config' | 'layer' | 'manifest' | 'subject';

/**
 * One content reference of a manifest.
 * @public
 */
export interface ManifestChild {
  readonly role: ChildRole;
  readonly descriptor: Descriptor;
}

/**
 * Everything a manifest references, in document order: an image manifest's config, then its
 * layers, then its subject; an index's manifests, then its subject. These are what must exist in
 * a repository before the manifest can be pushed there (the subject excepted: registries accept a
 * manifest whose subject is missing), and what a copy walks.
 * @public
 */
export function manifestChildren(manifest: ParsedManifest): ManifestChild[] {
  const children: ManifestChild[] = [];
  if (manifest.kind === 'oci-manifest' || manifest.kind === 'docker-manifest') {
    children.push({ role: 'config', descriptor: manifest.manifest.config });
    for (const layer of manifest.manifest.layers) children.push({ role: 'layer', descriptor: layer });
  } else {
    for (const entry of manifest.manifest.manifests) children.push({ role: 'manifest', descriptor: entry });
  }
  if (manifest.kind === 'oci-manifest' || manifest.kind === 'oci-index') {
    const subject = manifest.manifest.subject;
    if (subject !== undefined) children.push({ role: 'subject', descriptor: subject });
  }
  return children;
}

/**
 * The distribution-spec limit on the `<ref>` part of a referrers tag: the encoded digest is cut to
 * 64 characters (distribution-spec v1.1 "Referrers Tag Schema"), so a sha256 tag holds the whole
 * digest and a sha512 tag only its first half.
 */
const REFERRERS_REF_LIMIT = 64;
/** The limit on the `<alg>` part. */
const REFERRERS_ALG_LIMIT = 32;

/**
 * The referrers fallback tag of a digest, `<alg>-<ref>` (distribution-spec v1.1 "Referrers Tag
 * Schema"): `sha256:abc…` → `sha256-abc…`. Registries without the referrers API (GHCR among them)
 * keep the referrers of a manifest in an index tagged this way.
 * @throws InvalidInputError (`GHCR_INVALID_DIGEST`) when `digest` is not a digest.
 * @public
 */
export function referrersTagFor(digest: string): string {
  const { algorithm, encoded } = parseDigest(digest);
  // Unregistered algorithms may use "+" and encodings "=", which a tag cannot hold.
  const tagSafe = (part: string) => part.replace(/[^a-zA-Z0-9._-]/g, '-');
  return `${tagSafe(algorithm.slice(0, REFERRERS_ALG_LIMIT))}-${tagSafe(encoded.slice(0, REFERRERS_REF_LIMIT))}`;
}

/**
 * The digest a referrers fallback tag stands for, or undefined when the tag is not of that schema.
 * A tag whose digest was truncated (sha512) cannot be inverted and gives undefined too.
 * @public
 */
export function parseReferrersTag(tag: string): Digest | undefined {
  // Only sha256 maps back: the schema truncates longer digests to 64 characters, and a looser
  // pattern would read ordinary tags such as `pr-9` or `v1-amd64` as digests.
  const match = /^sha256-([a-f0-9]{64})$/.exec(tag);
  return match === null ? undefined : (`sha256:${match[1]}` as Digest);
}

/**
 * The kinds of cosign's legacy tags.
 * @public
 */
export type CosignTagKind = 'signature' | 'attestation' | 'sbom';

/** The distribution-spec limit on a tag's length. */
const MAX_TAG_LENGTH = 128;

/**
 * cosign's legacy tags for the signature, attestations and SBOM of a digest:
 * `sha256-<hex>.sig`, `.att` and `.sbom`.
 * @throws InvalidInputError (`GHCR_INVALID_DIGEST`) when `digest` is not a digest, and
 * InvalidInputError when the tags would be longer than a tag may be (an sha512 digest: cosign's
 * tag scheme exists for sha256 only).
 * @public
 */
export function cosignTagsFor(digest: string): { signature: string; attestation: string; sbom: string } {
  const { algorithm, encoded } = parseDigest(digest);
  const base = `${algorithm}-${encoded}`;
  if (`${base}.sbom`.length > MAX_TAG_LENGTH || !/^[a-zA-Z0-9._-]+$/.test(base)) {
    throw new InvalidInputError(
      `cosign's legacy tags cannot name ${digest}: "${base}.sbom" is not a valid tag (at most ${MAX_TAG_LENGTH} letters, digits, ".", "_" and "-"); cosign uses them for sha256 digests only`,
      { input: digest },
    );
  }
  return { signature: `${base}.sig`, attestation: `${base}.att`, sbom: `${base}.sbom` };
}

const COSIGN_SUFFIXES: Record<string, CosignTagKind> = { sig: 'signature', att: 'attestation', sbom: 'sbom' };

/**
 * The digest and kind a cosign legacy tag (`sha256-<hex>.sig|.att|.sbom`) stands for, or
 * undefined when the tag is not one.
 * @public
 */
export function parseCosignTag(tag: string): { digest: Digest; kind: CosignTagKind } | undefined {
  // cosign's legacy scheme exists for sha256 only (see cosignTagsFor).
  const match = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/.exec(tag);
  if (match === null) return undefined;
  const kind = COSIGN_SUFFIXES[match[2] as string];
  if (kind === undefined) return undefined;
  return { digest: `sha256:${match[1]}` as Digest, kind };
}
