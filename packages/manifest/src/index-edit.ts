import { annotationsSchema, type Descriptor, InvalidInputError, type Platform } from '@ghcr/oci-types';
import { serializeIndex } from './build.js';
import type { ParsedIndex } from './kinds.js';
import { formatPlatform, isUnknownPlatform, normalizePlatform, platformMatches } from './platform.js';

/*
 * Editing an index builds a new one: the entries not edited are carried over as they are
 * (unknown fields included), top-level fields are kept, and the result is serialised once,
 * canonically, like every manifest this package builds.
 */

/** Annotation keys buildx puts on an attestation entry (platform unknown/unknown). */
const REFERENCE_TYPE = 'vnd.docker.reference.type';
const REFERENCE_DIGEST = 'vnd.docker.reference.digest';

/** The identity of a platform: two entries with equal keys are the same platform. */
function platformKey(platform: Platform): string {
  const normalised = normalizePlatform(platform);
  return JSON.stringify([
    normalised.os,
    normalised.architecture,
    normalised.variant ?? '',
    normalised['os.version'] ?? '',
    [...(normalised['os.features'] ?? [])].sort(),
  ]);
}

/** True for a buildx attestation entry that describes one of `digests`. */
function isAttestationFor(entry: Descriptor, digests: ReadonlySet<string>): boolean {
  const annotations = entry.annotations;
  return (
    isUnknownPlatform(entry.platform) &&
    annotations?.[REFERENCE_TYPE] === 'attestation-manifest' &&
    digests.has(annotations[REFERENCE_DIGEST] ?? '')
  );
}

function rebuild(
  index: ParsedIndex,
  changes: { manifests?: Descriptor[]; annotations?: Record<string, string> | null },
): ParsedIndex {
  const document: Record<string, unknown> = { ...index.manifest };
  if (changes.manifests !== undefined) document.manifests = changes.manifests;
  if (changes.annotations === null) delete document.annotations;
  else if (changes.annotations !== undefined) document.annotations = changes.annotations;
  return serializeIndex(document, index.kind === 'docker-manifest-list');
}

/**
 * A new index with `descriptor` as the entry for its platform: it takes the place of the entry
 * (or entries) with the same platform (same os, architecture, variant after
 * {@link normalizePlatform}, same `os.version` and `os.features`), or is appended when there is
 * none. buildx attestation entries (`unknown/unknown`) that describe a replaced manifest are
 * dropped with it; every other entry is kept as it was.
 * @throws InvalidInputError when the descriptor has no platform or is `unknown/unknown`;
 * InvalidManifestError when an entry is invalid (see {@link buildIndex}).
 * @public
 */
export function addPlatformManifest(index: ParsedIndex, descriptor: Descriptor): ParsedIndex {
  const platform = descriptor.platform;
  if (platform === undefined || isUnknownPlatform(platform)) {
    throw new InvalidInputError(
      `cannot add ${descriptor.digest} as a platform manifest: its descriptor has ${platform === undefined ? 'no platform' : 'platform unknown/unknown'}; give it the platform of the image it points to (descriptorOf(manifest, { platform }))`,
    );
  }
  const key = platformKey(platform);
  const replaced = new Set<string>();
  const manifests: Descriptor[] = [];
  let placed = false;
  for (const entry of index.manifest.manifests) {
    if (
      entry.platform !== undefined &&
      !isUnknownPlatform(entry.platform) &&
      platformKey(entry.platform) === key
    ) {
      if (entry.digest !== descriptor.digest) replaced.add(entry.digest);
      if (!placed) manifests.push(descriptor);
      placed = true;
      continue;
    }
    manifests.push(entry);
  }
  if (!placed) manifests.push(descriptor);
  const kept = manifests.filter((entry) => !isAttestationFor(entry, replaced));
  return rebuild(index, { manifests: kept });
}

/**
 * A new index without the entries for `platform` (matched with {@link platformMatches}, so
 * `linux/arm64` removes `linux/arm64/v8`), and without the buildx attestation entries that
 * describe them. Every other entry is kept as it was.
 * @throws InvalidInputError when the index has no entry for `platform`; the message lists the
 * platforms it has.
 * @public
 */
export function removePlatformManifest(index: ParsedIndex, platform: Platform): ParsedIndex {
  const removed = new Set<string>();
  const manifests = index.manifest.manifests.filter((entry) => {
    if (entry.platform === undefined || isUnknownPlatform(entry.platform)) return true;
    if (!platformMatches(entry.platform, platform)) return true;
    removed.add(entry.digest);
    return false;
  });
  if (removed.size === 0) {
    const available = index.manifest.manifests
      .filter((entry) => entry.platform !== undefined && !isUnknownPlatform(entry.platform))
      .map((entry) => formatPlatform(entry.platform as Platform));
    throw new InvalidInputError(
      `the index ${index.digest} has no entry for platform ${formatPlatform(platform)}; it has ${available.length === 0 ? 'no platform entries' : available.join(', ')}`,
      { input: formatPlatform(platform) },
    );
  }
  return rebuild(index, { manifests: manifests.filter((entry) => !isAttestationFor(entry, removed)) });
}

/**
 * A new index whose annotations are `annotations` (replacing the old ones; an empty object removes
 * the field). The entries are kept as they were.
 * @throws InvalidInputError for a Docker manifest list (it has no annotations; build an OCI index)
 * or annotations that are not string to string.
 * @public
 */
export function setIndexAnnotations(index: ParsedIndex, annotations: Record<string, string>): ParsedIndex {
  if (index.kind === 'docker-manifest-list') {
    throw new InvalidInputError(
      `cannot set annotations on the Docker manifest list ${index.digest}: the format has none; rebuild it as an OCI index (buildIndex with mediaType 'oci')`,
    );
  }
  const result = annotationsSchema.safeParse(annotations);
  if (!result.success) {
    throw new InvalidInputError('annotations must map strings to strings', { cause: result.error });
  }
  return rebuild(index, { annotations: Object.keys(result.data).length === 0 ? null : result.data });
}
