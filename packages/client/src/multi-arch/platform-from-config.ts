import { InvalidInputError, MediaType, type Platform } from '@ghcr/oci-types';

/** Config media types that carry an image's platform (`os`, `architecture`, `variant`, …). */
const IMAGE_CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.OciConfig, MediaType.DockerConfig]);

/**
 * True for a config media type that is an image config (OCI or Docker), whose JSON names the
 * image's platform.
 * @internal
 */
export function isImageConfig(mediaType: string): boolean {
  return IMAGE_CONFIG_TYPES.has(mediaType);
}

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * The platform an image config names (image-spec config.md): `os` and `architecture` (required),
 * and `variant`, `os.version`, `os.features` when present, as written.
 * @throws InvalidInputError when the config is not JSON or lacks `os` / `architecture`.
 * @internal
 */
export function platformFromConfig(bytes: Uint8Array, where: string): Platform {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new InvalidInputError(`${where}: the image config is not JSON, so its platform cannot be read`, {
      cause: error,
    });
  }
  const config =
    typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  const { os, architecture, variant } = config;
  const osVersion = config['os.version'];
  const osFeatures = config['os.features'];
  if (!isString(os) || os === '' || !isString(architecture) || architecture === '') {
    throw new InvalidInputError(
      `${where}: the image config has no "os" and "architecture", so its platform is unknown; give the platform explicitly`,
    );
  }
  const platform: Platform = { os, architecture };
  if (isString(variant) && variant !== '') platform.variant = variant;
  if (isString(osVersion) && osVersion !== '') platform['os.version'] = osVersion;
  if (Array.isArray(osFeatures) && osFeatures.length > 0 && osFeatures.every(isString)) {
    platform['os.features'] = osFeatures;
  }
  return platform;
}
