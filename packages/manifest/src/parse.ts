import {
  type Descriptor,
  type Digest,
  type DigestAlgorithm,
  DigestMismatchError,
  digestOf,
  dockerManifestListSchema,
  dockerManifestSchema,
  InvalidManifestError,
  MediaType,
  ociImageIndexSchema,
  ociImageManifestSchema,
  parseDigest,
  UnsupportedMediaTypeError,
} from '@ghcr/oci-types';
import type * as z from 'zod';
import {
  enforceSizeCap,
  isLegacyMediaType,
  isSpecificContentType,
  mediaTypeFromDocument,
  normalizeContentType,
  parseJsonObject,
} from './detect.js';
import type { ManifestKind, ParsedManifest } from './kinds.js';
import { checkDescriptorRules, describeValue, invalidFromZod, isMediaType } from './validate.js';

/**
 * Options of {@link parseManifest}.
 * @public
 */
export interface ParseManifestOptions {
  /**
   * The response's Content-Type. A specific manifest type decides the kind (and must agree with
   * the `mediaType` field when the document has one). If omitted, or generic (`application/json`,
   * `application/octet-stream`, `text/plain`), the `mediaType` field decides, then the shape.
   */
  readonly contentType?: string | undefined;
  /**
   * The size cap in bytes, checked before anything is decoded or parsed.
   * If omitted, {@link DEFAULT_MAX_MANIFEST_BYTES} (4 MiB).
   */
  readonly maxBytes?: number | undefined;
  /**
   * The digest the bytes must have (the digest the manifest was requested by, or the
   * `Docker-Content-Digest` header). Its algorithm (sha256 or sha512) is the one the result's
   * `digest` is computed with. If omitted, nothing is verified and the digest is sha256.
   */
  readonly expectedDigest?: string | undefined;
}

/** What each kind is called in messages, its schema and its media type. */
const KINDS: Record<ManifestKind, { readonly label: string; readonly mediaType: string }> = {
  'oci-manifest': { label: 'OCI image manifest', mediaType: MediaType.OciManifest },
  'oci-index': { label: 'OCI image index', mediaType: MediaType.OciIndex },
  'docker-manifest': { label: 'Docker v2 schema 2 manifest', mediaType: MediaType.DockerManifest },
  'docker-manifest-list': { label: 'Docker manifest list', mediaType: MediaType.DockerManifestList },
};

/** The kind of a supported manifest media type, or undefined. @internal */
export function kindOfMediaType(mediaType: string): ManifestKind | undefined {
  switch (mediaType) {
    case MediaType.OciManifest:
      return 'oci-manifest';
    case MediaType.OciIndex:
      return 'oci-index';
    case MediaType.DockerManifest:
      return 'docker-manifest';
    case MediaType.DockerManifestList:
      return 'docker-manifest-list';
    default:
      return undefined;
  }
}

/** The label used in messages for a kind ("OCI image index"). @internal */
export function labelOfKind(kind: ManifestKind): string {
  return KINDS[kind].label;
}

function legacyError(mediaType: string): UnsupportedMediaTypeError {
  return new UnsupportedMediaTypeError(
    `this is a Docker image manifest v2 schema 1 (${mediaType}), a legacy format that this library does not read: convert it to a current format by re-pushing the image with a current Docker, or with "skopeo copy --format v2s2" (or "--format oci")`,
    { mediaType },
  );
}

function unsupportedError(mediaType: string, where: string): UnsupportedMediaTypeError {
  const hint =
    mediaType === 'application/vnd.oci.artifact.manifest.v1+json'
      ? ': the OCI artifact manifest was dropped from image-spec v1.1 before release; push artifacts as OCI image manifests with "artifactType"'
      : `; this library reads ${Object.values(KINDS)
          .map((kind) => kind.mediaType)
          .join(', ')}`;
  return new UnsupportedMediaTypeError(
    `unsupported manifest media type "${mediaType}" (from ${where})${hint}`,
    {
      mediaType,
    },
  );
}

function toBytes(input: Uint8Array | string): Uint8Array {
  // A copy: the digest stays true even if the caller reuses its buffer afterwards.
  return typeof input === 'string' ? new TextEncoder().encode(input) : new Uint8Array(input);
}

function computeDigest(bytes: Uint8Array, expectedDigest: string | undefined): Digest {
  if (expectedDigest === undefined) return digestOf(bytes);
  const { algorithm } = parseDigest(expectedDigest);
  // digestOf refuses (InvalidInputError) an algorithm it cannot compute, rather than mismatching.
  const actual = digestOf(bytes, algorithm as DigestAlgorithm);
  if (actual !== expectedDigest) {
    throw new DigestMismatchError(
      `manifest failed verification: expected digest ${expectedDigest}, got ${actual}; the registry served other content than was asked for, or it changed in transit: fetch it again by digest`,
      { expected: expectedDigest, actual },
    );
  }
  return actual;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Every descriptor of a document with the dotted path of its field, for the rules zod leaves out. */
function descriptorsWithPaths(
  kind: ManifestKind,
  document: Record<string, unknown>,
): { field: string; descriptor: Descriptor }[] {
  const out: { field: string; descriptor: Descriptor }[] = [];
  const push = (field: string, value: unknown): void => {
    if (value !== undefined) out.push({ field, descriptor: value as Descriptor });
  };
  if (kind === 'oci-manifest' || kind === 'docker-manifest') {
    push('config', document.config);
    for (const [position, layer] of (document.layers as unknown[]).entries())
      push(`layers.${position}`, layer);
  } else {
    for (const [position, entry] of (document.manifests as unknown[]).entries()) {
      push(`manifests.${position}`, entry);
    }
  }
  push('subject', document.subject);
  return out;
}

function validate(kind: ManifestKind, document: Record<string, unknown>): ParsedManifest['manifest'] {
  const schema: z.ZodType<ParsedManifest['manifest']> = {
    'oci-manifest': ociImageManifestSchema,
    'oci-index': ociImageIndexSchema,
    'docker-manifest': dockerManifestSchema,
    'docker-manifest-list': dockerManifestListSchema,
  }[kind];
  const label = KINDS[kind].label;
  const result = schema.safeParse(document, { reportInput: true });
  if (!result.success) throw invalidFromZod(result.error, document, label);
  const artifactType = document.artifactType;
  if (typeof artifactType === 'string' && !isMediaType(artifactType)) {
    throw new InvalidManifestError(
      `invalid ${label}: artifactType must be a media type (RFC 6838 type/subtype), got ${describeValue(artifactType)}`,
      { field: 'artifactType' },
    );
  }
  for (const { field, descriptor } of descriptorsWithPaths(kind, document)) {
    checkDescriptorRules(descriptor, field, label);
  }
  return result.data;
}

/**
 * Parses and validates a manifest, keeping its exact bytes.
 *
 * In order: the size cap (before any decoding); the digest over the bytes, checked against
 * `expectedDigest`; the media type (a specific Content-Type, else the `mediaType` field, else the
 * shape; see {@link detectManifestMediaType}); Docker schema 1 is refused; the document is
 * validated with the `@ghcr/oci-types` schemas and the descriptor rules of the image spec.
 *
 * The bytes are copied, digested and kept as they are; they are never re-serialised, so the
 * result's `digest` is the registry's `Docker-Content-Digest`. The returned object and its
 * `manifest` are frozen. Unknown fields are kept (the specs require ignoring them).
 *
 * @param bytes - the body, as bytes or as a string (encoded as UTF-8).
 * @throws ProtocolError `GHCR_MANIFEST_TOO_LARGE` over the size cap; DigestMismatchError when
 * `expectedDigest` does not match; UnsupportedMediaTypeError for an unknown type or Docker schema 1;
 * InvalidManifestError naming the field and the problem for anything malformed, including a
 * Content-Type that disagrees with the `mediaType` field.
 * @public
 */
export function parseManifest(
  bytes: Uint8Array | string,
  options: ParseManifestOptions = {},
): ParsedManifest {
  const data = toBytes(bytes);
  enforceSizeCap(data.byteLength, options.maxBytes);
  const digest = computeDigest(data, options.expectedDigest);

  // A specific header is judged before the body is parsed: an HTML error page served as
  // text/html is an unsupported type, not "invalid JSON".
  const header = normalizeContentType(options.contentType);
  const specificHeader = isSpecificContentType(header) ? header : undefined;
  if (specificHeader !== undefined) {
    if (isLegacyMediaType(specificHeader)) throw legacyError(specificHeader);
    if (kindOfMediaType(specificHeader) === undefined)
      throw unsupportedError(specificHeader, 'the Content-Type');
  }

  const document = parseJsonObject(data);
  if (document.schemaVersion === 1) {
    throw legacyError(
      typeof document.mediaType === 'string' ? document.mediaType : MediaType.DockerManifestSchema1,
    );
  }
  if (document.mediaType !== undefined && typeof document.mediaType !== 'string') {
    throw new InvalidManifestError(
      `invalid manifest: mediaType must be a string, got ${describeValue(document.mediaType)}`,
      {
        field: 'mediaType',
      },
    );
  }
  const field = document.mediaType;
  if (field !== undefined && isLegacyMediaType(field)) throw legacyError(field);

  let mediaType: string;
  if (specificHeader !== undefined) {
    if (field !== undefined && field !== specificHeader) {
      throw new InvalidManifestError(
        `invalid manifest: the Content-Type says "${specificHeader}" but the document's mediaType field says "${field}"; the registry or the tool that pushed it is inconsistent, so the manifest cannot be trusted to be either`,
        { field: 'mediaType' },
      );
    }
    mediaType = specificHeader;
  } else {
    mediaType = mediaTypeFromDocument(document);
    if (isLegacyMediaType(mediaType)) throw legacyError(mediaType);
  }
  const kind = kindOfMediaType(mediaType);
  if (kind === undefined) {
    throw unsupportedError(mediaType, field === undefined ? 'the document shape' : 'the mediaType field');
  }

  const manifest = validate(kind, document);
  deepFreeze(manifest);
  return Object.freeze({
    kind,
    manifest,
    bytes: data,
    digest,
    size: data.byteLength,
    mediaType,
  }) as ParsedManifest;
}
