import {
  annotationsSchema,
  type Descriptor,
  definedProps,
  descriptorSchema,
  EMPTY_DESCRIPTOR,
  InvalidManifestError,
  MediaType,
} from '@ghcr/oci-types';
import { canonicalJson } from './canonical-json.js';
import type { ParsedImageManifest, ParsedIndex } from './kinds.js';
import { parseManifest } from './parse.js';
import {
  checkDescriptorForBuild,
  describeValue,
  invalidFromZod,
  isMediaType,
  rejectProtoKeys,
} from './validate.js';

/**
 * Input of {@link buildImageManifest}.
 * @public
 */
export interface BuildImageManifestInput {
  /** The config blob's descriptor, with its real digest and size. */
  readonly config: Descriptor;
  /** The layers' descriptors, base layer first. */
  readonly layers: readonly Descriptor[];
  /** Manifest annotations. If omitted, the manifest has none. */
  readonly annotations?: Record<string, string>;
  /** The manifest this one refers to (a signature, an SBOM). OCI only. If omitted, none. */
  readonly subject?: Descriptor;
  /** The artifact type. OCI only; required when the config is the empty descriptor. If omitted, none. */
  readonly artifactType?: string;
  /** Which format to write. If omitted, `'oci'`. */
  readonly mediaType?: 'oci' | 'docker';
}

/**
 * Input of {@link buildArtifactManifest}.
 * @public
 */
export interface BuildArtifactManifestInput {
  /** The artifact's type, an RFC 6838 media type (`application/vnd.example.sbom+json`). */
  readonly artifactType: string;
  /** The artifact's blobs. If empty, the layers are the single empty descriptor, as the spec advises. */
  readonly blobs: readonly Descriptor[];
  /** The manifest the artifact refers to. If omitted, none. */
  readonly subject?: Descriptor;
  /** Manifest annotations. If omitted, none. */
  readonly annotations?: Record<string, string>;
  /** The config. If omitted, the empty descriptor (`application/vnd.oci.empty.v1+json`, `{}`). */
  readonly config?: Descriptor;
}

/**
 * Input of {@link buildIndex}.
 * @public
 */
export interface BuildIndexInput {
  /** The entries, each with its real digest and size (and, for a Docker list, a platform). */
  readonly manifests: readonly Descriptor[];
  /** Index annotations. OCI only. If omitted, none. */
  readonly annotations?: Record<string, string>;
  /** The manifest this index refers to. OCI only. If omitted, none. */
  readonly subject?: Descriptor;
  /** The artifact type. OCI only. If omitted, none. */
  readonly artifactType?: string;
  /** Which format to write. If omitted, `'oci'`. */
  readonly mediaType?: 'oci' | 'docker';
}

function checkAnnotations(annotations: unknown, what: string, field = 'annotations'): Record<string, string> {
  const result = annotationsSchema.safeParse(annotations, { reportInput: true });
  if (!result.success) throw invalidFromZod(result.error, annotations, what, [field]);
  return result.data;
}

function checkArtifactType(artifactType: unknown, what: string): string {
  if (typeof artifactType !== 'string' || !isMediaType(artifactType)) {
    throw new InvalidManifestError(
      `invalid ${what}: artifactType must be a media type such as "application/vnd.example.sbom+json" (RFC 6838 type/subtype), got ${describeValue(artifactType)}`,
      { field: 'artifactType' },
    );
  }
  return artifactType;
}

function refuseForDocker(what: string, input: Record<string, unknown>, fields: readonly string[]): void {
  for (const field of fields) {
    if (input[field] !== undefined) {
      throw new InvalidManifestError(
        `invalid ${what}: Docker formats have no "${field}" field; build an OCI manifest (mediaType: 'oci') to use it`,
        { field },
      );
    }
  }
}

function checkArray(value: unknown, field: string, what: string): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidManifestError(
      `invalid ${what}: ${field} must be an array, got ${describeValue(value)}`,
      {
        field,
      },
    );
  }
  return value;
}

/** Serialises a document once, canonically, and reads it back through {@link parseManifest}. */
function serialize(document: Record<string, unknown>, mediaType: string) {
  return parseManifest(canonicalJson(document), { contentType: mediaType });
}

/**
 * Builds an image manifest (OCI, or Docker v2 schema 2) from descriptors: validated, serialised
 * once to canonical JSON (see {@link canonicalJson}), and returned parsed, with its exact bytes,
 * digest and size. Building the same input twice gives the same bytes.
 *
 * Every descriptor must be valid and carry its real size: a size of 0 is refused, except for the
 * empty blob (`sha256:e3b0…`), which really has no bytes.
 * @throws InvalidManifestError naming the field (`layers.1.size`) and the problem; also when a
 * Docker manifest is given `subject`, `artifactType` or `annotations`, or an OCI manifest whose
 * config is the empty descriptor has no `artifactType` (image-spec v1.1 requires one).
 * @public
 */
export function buildImageManifest(input: BuildImageManifestInput): ParsedImageManifest {
  const docker = input.mediaType === 'docker';
  const mediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const what = docker ? 'Docker v2 schema 2 manifest' : 'OCI image manifest';
  if (input.mediaType !== undefined && input.mediaType !== 'oci' && input.mediaType !== 'docker') {
    throw new InvalidManifestError(
      `invalid ${what}: mediaType must be 'oci' or 'docker', got ${describeValue(input.mediaType)}`,
      { field: 'mediaType' },
    );
  }
  if (docker) refuseForDocker(what, { ...input }, ['subject', 'artifactType', 'annotations']);
  rejectProtoKeys({ ...input }, what);
  const config = checkDescriptorForBuild(input.config, 'config', what, descriptorSchema, {
    allowEmptyBlob: true,
  });
  const layers = checkArray(input.layers, 'layers', what).map((layer, position) =>
    checkDescriptorForBuild(layer, `layers.${position}`, what, descriptorSchema, { allowEmptyBlob: true }),
  );
  const subject =
    input.subject === undefined
      ? undefined
      : checkDescriptorForBuild(input.subject, 'subject', what, descriptorSchema, { allowEmptyBlob: false });
  const annotations = input.annotations === undefined ? undefined : checkAnnotations(input.annotations, what);
  const artifactType =
    input.artifactType === undefined ? undefined : checkArtifactType(input.artifactType, what);
  if (!docker && config.mediaType === MediaType.OciEmpty && artifactType === undefined) {
    throw new InvalidManifestError(
      `invalid ${what}: artifactType is required when the config is the empty descriptor (image-spec v1.1); give the artifact's media type, or use buildArtifactManifest`,
      { field: 'artifactType' },
    );
  }
  const built = serialize(
    { schemaVersion: 2, mediaType, artifactType, config, layers, subject, annotations },
    mediaType,
  );
  if (built.kind !== 'oci-manifest' && built.kind !== 'docker-manifest') {
    throw new InvalidManifestError(`invalid ${what}: it was read back as ${built.kind}`);
  }
  return built;
}

/**
 * Builds an OCI artifact manifest (image-spec v1.1 "Guidelines for Artifact Usage"): an OCI image
 * manifest with `artifactType`, the given blobs as layers (or the single empty descriptor when
 * there are none), the empty descriptor as config unless another is given, and an optional
 * `subject`. See {@link buildImageManifest} for the rules and errors.
 * @public
 */
export function buildArtifactManifest(input: BuildArtifactManifestInput): ParsedImageManifest {
  const what = 'OCI artifact manifest';
  const artifactType = checkArtifactType(input.artifactType, what);
  const blobs = checkArray(input.blobs, 'blobs', what) as readonly Descriptor[];
  return buildImageManifest({
    config: input.config ?? { ...EMPTY_DESCRIPTOR },
    layers: blobs.length === 0 ? [{ ...EMPTY_DESCRIPTOR }] : blobs,
    artifactType,
    mediaType: 'oci',
    ...definedProps({ subject: input.subject, annotations: input.annotations }),
  });
}

/**
 * Validates the entries of an index document and serialises it once. Shared by
 * {@link buildIndex} and the index editing functions. Top-level fields other than those named
 * (unknown ones, kept from a parsed index) are written as they are.
 * @internal
 */
export function serializeIndex(document: Record<string, unknown>, docker: boolean): ParsedIndex {
  const mediaType = docker ? MediaType.DockerManifestList : MediaType.OciIndex;
  const what = docker ? 'Docker manifest list' : 'OCI image index';
  if (docker) refuseForDocker(what, document, ['subject', 'artifactType', 'annotations']);
  rejectProtoKeys(document, what);
  const manifests = checkArray(document.manifests, 'manifests', what).map((entry, position) => {
    const descriptor = checkDescriptorForBuild(entry, `manifests.${position}`, what, descriptorSchema, {
      allowEmptyBlob: false,
    });
    if (docker && descriptor.platform === undefined) {
      throw new InvalidManifestError(
        `invalid ${what}: manifests.${position}.platform is required: every entry of a Docker manifest list names its platform (or build an OCI index)`,
        { field: `manifests.${position}.platform` },
      );
    }
    return descriptor;
  });
  const subject =
    document.subject === undefined
      ? undefined
      : checkDescriptorForBuild(document.subject, 'subject', what, descriptorSchema, {
          allowEmptyBlob: false,
        });
  const annotations =
    document.annotations === undefined ? undefined : checkAnnotations(document.annotations, what);
  const artifactType =
    document.artifactType === undefined ? undefined : checkArtifactType(document.artifactType, what);
  const built = serialize(
    { ...document, schemaVersion: 2, mediaType, artifactType, manifests, subject, annotations },
    mediaType,
  );
  if (built.kind !== 'oci-index' && built.kind !== 'docker-manifest-list') {
    throw new InvalidManifestError(`invalid ${what}: it was read back as ${built.kind}`);
  }
  return built;
}

/**
 * Builds an index (OCI image index, or Docker manifest list) from descriptors: validated,
 * serialised once to canonical JSON, returned parsed with its exact bytes, digest and size.
 *
 * Every entry must have a valid digest and its real size, greater than 0: GHCR refuses an index
 * whose entries say size 0, and no manifest is empty. Use {@link descriptorOf} to make entries from
 * parsed manifests. A Docker list needs a platform on every entry.
 * @throws InvalidManifestError naming the entry (`manifests.2.size`) and the problem.
 * @public
 */
export function buildIndex(input: BuildIndexInput): ParsedIndex {
  if (input.mediaType !== undefined && input.mediaType !== 'oci' && input.mediaType !== 'docker') {
    throw new InvalidManifestError(
      `invalid index: mediaType must be 'oci' or 'docker', got ${describeValue(input.mediaType)}`,
      { field: 'mediaType' },
    );
  }
  return serializeIndex(
    {
      manifests: input.manifests,
      annotations: input.annotations,
      subject: input.subject,
      artifactType: input.artifactType,
    },
    input.mediaType === 'docker',
  );
}
