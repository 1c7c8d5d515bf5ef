/**
 * `@ghcr/manifest`: parse, detect and validate OCI and Docker manifests with their exact bytes;
 * platforms (normalise, parse, match, select); build image manifests, artifacts and indexes
 * canonically; edit indexes; walk the manifest graph (children, referrers tags, cosign tags).
 *
 * @packageDocumentation
 */

export {
  type BuildArtifactManifestInput,
  type BuildImageManifestInput,
  type BuildIndexInput,
  buildArtifactManifest,
  buildImageManifest,
  buildIndex,
} from './build.js';
export { canonicalJson } from './canonical-json.js';
export { type DescriptorExtras, descriptorOf } from './descriptor.js';
export { type DetectManifestMediaTypeOptions, detectManifestMediaType } from './detect.js';
export {
  type ChildRole,
  type CosignTagKind,
  cosignTagsFor,
  type ManifestChild,
  manifestChildren,
  parseCosignTag,
  parseReferrersTag,
  referrersTagFor,
} from './graph.js';
export { addPlatformManifest, removePlatformManifest, setIndexAnnotations } from './index-edit.js';
export {
  DEFAULT_MAX_MANIFEST_BYTES,
  isImageManifest,
  isIndex,
  type ManifestKind,
  type ParsedBase,
  type ParsedImageManifest,
  type ParsedIndex,
  type ParsedManifest,
} from './kinds.js';
export { type ParseManifestOptions, parseManifest } from './parse.js';
export {
  formatPlatform,
  listPlatforms,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatformManifest,
} from './platform.js';
