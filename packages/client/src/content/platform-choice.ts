import {
  formatPlatform,
  listPlatforms,
  normalizePlatform,
  type ParsedIndex,
  parsePlatform,
  selectPlatformManifest,
} from '@ghcr/manifest';
import { type Descriptor, InvalidInputError, NotFoundError, type Platform } from '@ghcr/oci-types';

/** Node's `process.arch` → the OCI architecture (and variant). */
const ARCHITECTURES: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: 'amd64' },
  arm64: { architecture: 'arm64', variant: 'v8' },
  arm: { architecture: 'arm', variant: 'v7' },
  ia32: { architecture: '386' },
  ppc64: { architecture: 'ppc64le' },
  s390x: { architecture: 's390x' },
  riscv64: { architecture: 'riscv64' },
  loong64: { architecture: 'loong64' },
  mips64el: { architecture: 'mips64le' },
};

/**
 * The platform of this machine, as a container runtime here would pick it: `linux` (`windows` on
 * Windows) and the CPU architecture.
 * @internal
 */
export function hostPlatform(): Platform {
  const arch = ARCHITECTURES[process.arch] ?? { architecture: process.arch };
  return normalizePlatform({ os: process.platform === 'win32' ? 'windows' : 'linux', ...arch });
}

/**
 * Which part of an index an operation takes: `platform` (one), `allPlatforms: true` (all, the
 * default), `allPlatforms: false` without a platform (this machine's).
 * @internal
 */
export function platformWanted(options: {
  readonly platform?: string | Platform | undefined;
  readonly allPlatforms?: boolean | undefined;
}): Platform | undefined {
  if (options.platform !== undefined) {
    if (options.allPlatforms === true) {
      throw new InvalidInputError(
        'give either platform (one platform of an index) or allPlatforms (the whole index), not both',
      );
    }
    return typeof options.platform === 'string' ? parsePlatform(options.platform) : options.platform;
  }
  return options.allPlatforms === false ? hostPlatform() : undefined;
}

/**
 * The manifest of an index that serves `wanted`.
 * @throws NotFoundError listing the platforms the index has.
 * @internal
 */
export function choosePlatform(index: ParsedIndex, wanted: Platform, what: string): Descriptor {
  const chosen = selectPlatformManifest(index, wanted);
  if (chosen === undefined) {
    const available = listPlatforms(index).map(formatPlatform);
    throw new NotFoundError(
      `${what} has no manifest for ${formatPlatform(wanted)}; it has ${available.join(', ') || 'no platform entries'}`,
      { code: 'MANIFEST_UNKNOWN', resource: `${what} (${formatPlatform(wanted)})` },
    );
  }
  return chosen;
}
