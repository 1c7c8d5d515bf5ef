import {
  ConfigError,
  GhcrErrorCode,
  InvalidManifestError,
  LEGACY_MANIFEST_MEDIA_TYPES,
  MediaType,
  ProtocolError,
} from '@ghcr/oci-types';
import { DEFAULT_MAX_MANIFEST_BYTES } from './kinds.js';
import { describeValue, rejectProtoKeys } from './validate.js';

/**
 * Content-Types that say nothing about which manifest a body is. Registries and static file
 * servers send these (an OCI layout served over HTTP, some mirrors); the type then comes from the
 * `mediaType` field or the document's shape.
 */
const GENERIC_CONTENT_TYPES: ReadonlySet<string> = new Set([
  '',
  'application/json',
  'application/octet-stream',
  'binary/octet-stream',
  'text/plain',
  'text/json',
]);

/**
 * The media type part of a Content-Type header, lowercased, without parameters
 * (`application/vnd.oci.image.manifest.v1+json; charset=utf-8` → `application/vnd.oci.image.manifest.v1+json`).
 * @internal
 */
export function normalizeContentType(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const [mediaType = ''] = contentType.split(';');
  return mediaType.trim().toLowerCase();
}

/** True when a normalised Content-Type names a specific type (not absent, not generic). @internal */
export function isSpecificContentType(mediaType: string | undefined): mediaType is string {
  return mediaType !== undefined && !GENERIC_CONTENT_TYPES.has(mediaType);
}

/** True for Docker schema 1 media types. @internal */
export function isLegacyMediaType(mediaType: string): boolean {
  return LEGACY_MANIFEST_MEDIA_TYPES.includes(mediaType);
}

/**
 * Checks the size cap and returns the limit. The cap applies to the raw bytes, before any decoding
 * or JSON parsing, so a hostile or runaway body costs no more than reading it.
 * @internal
 */
export function enforceSizeCap(size: number, maxBytes: number | undefined): void {
  const limit = maxBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new ConfigError(`maxBytes must be a positive integer number of bytes, got ${String(maxBytes)}`, {
      field: 'maxBytes',
    });
  }
  if (size > limit) {
    throw new ProtocolError(
      `manifest is ${size} bytes, over the ${limit}-byte limit; registries refuse manifests this large (GHCR and distribution cap them at 4 MiB). Raise maxBytes only if you trust the source`,
      { code: GhcrErrorCode.MANIFEST_TOO_LARGE },
    );
  }
}

/**
 * Decodes and parses the JSON of a manifest body; the result must be a JSON object.
 * @throws InvalidManifestError when the bytes are not UTF-8, not JSON, or not an object.
 * @internal
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new InvalidManifestError(
      'invalid manifest: the body is not UTF-8 text, so it is not a JSON manifest',
      {
        cause: error,
      },
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message}` : '';
    throw new InvalidManifestError(`invalid manifest: the body is not valid JSON${detail}`, { cause: error });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new InvalidManifestError(
      `invalid manifest: the body must be a JSON object, got ${describeValue(document)}`,
    );
  }
  rejectProtoKeys(document, 'manifest');
  return document as Record<string, unknown>;
}

/**
 * The media type a document's shape implies, for bodies that came with a generic Content-Type and
 * no `mediaType` field (an OCI layout's `index.json`, older OCI manifests). Docker formats always
 * carry `mediaType`, so a shape alone means OCI.
 * @internal
 */
export function mediaTypeFromShape(document: Record<string, unknown>): string {
  if (document.schemaVersion === 1 || Array.isArray(document.fsLayers)) {
    return document.signatures === undefined
      ? MediaType.DockerManifestSchema1
      : MediaType.DockerManifestSchema1Signed;
  }
  if (Array.isArray(document.manifests)) return MediaType.OciIndex;
  if (document.config !== undefined || Array.isArray(document.layers)) return MediaType.OciManifest;
  throw new InvalidManifestError(
    'invalid manifest: cannot tell which kind of manifest this is: the Content-Type is absent or generic, there is no "mediaType" field, and the document has neither a "manifests" array (an index) nor "config" and "layers" (an image manifest)',
    { field: 'mediaType' },
  );
}

/**
 * The media type of a parsed document: the `mediaType` field when it is a string, else the shape.
 * @internal
 */
export function mediaTypeFromDocument(document: Record<string, unknown>): string {
  const field = document.mediaType;
  if (field === undefined) return mediaTypeFromShape(document);
  if (typeof field !== 'string') {
    throw new InvalidManifestError(
      `invalid manifest: mediaType must be a string, got ${describeValue(field)}`,
      { field: 'mediaType' },
    );
  }
  return field;
}

/**
 * Options of {@link detectManifestMediaType}.
 * @public
 */
export interface DetectManifestMediaTypeOptions {
  /** The size cap applied before the body is parsed. If omitted, {@link DEFAULT_MAX_MANIFEST_BYTES}. */
  readonly maxBytes?: number | undefined;
}

/**
 * Which media type a manifest body is, in this order: a specific Content-Type header; else (no
 * header, or a generic one such as `application/json` or `application/octet-stream`) the document's
 * `mediaType` field; else its shape (`manifests` → OCI index, `config`/`layers` → OCI image
 * manifest, `schemaVersion: 1` → Docker schema 1).
 *
 * This only detects: it returns unsupported and legacy types as they are, and does not validate
 * the document ({@link parseManifest} does both). Header parameters are dropped and the header is
 * lowercased.
 *
 * @throws InvalidManifestError when the body must be read and is not a JSON object, or its type
 * cannot be told; ProtocolError `GHCR_MANIFEST_TOO_LARGE` over the size cap.
 * @public
 */
export function detectManifestMediaType(
  bytes: Uint8Array,
  contentType?: string,
  options: DetectManifestMediaTypeOptions = {},
): string {
  const header = normalizeContentType(contentType);
  if (isSpecificContentType(header)) return header;
  enforceSizeCap(bytes.byteLength, options.maxBytes);
  return mediaTypeFromDocument(parseJsonObject(bytes));
}
