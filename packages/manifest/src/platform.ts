import { type Descriptor, GhcrErrorCode, InvalidInputError, type Platform } from '@ghcr/oci-types';
import type { ParsedIndex } from './kinds.js';

/*
 * Platform names follow the Go values the image spec refers to (GOOS/GOARCH), with the aliases
 * other tools and `uname -m` use mapped onto them, as containerd's `platforms.Normalize` does.
 * Variants: arm64 defaults to v8 and arm to v7 (what "linux/arm64" and "linux/arm" mean on every
 * registry), amd64's v1 is the absence of a variant.
 */

/** The normalised architecture and variant for an architecture and variant as written. */
function normalizeArchitecture(
  architecture: string,
  variant: string | undefined,
): { architecture: string; variant: string | undefined } {
  const arch = architecture.trim().toLowerCase();
  const given = variant === undefined || variant.trim() === '' ? undefined : variant.trim().toLowerCase();
  const withV = (value: string | undefined): string | undefined =>
    value !== undefined && /^\d+(\.\d+)?$/.test(value) ? `v${value}` : value;
  switch (arch) {
    case 'aarch64':
    case 'arm64': {
      const normalised = withV(given);
      if (normalised === undefined || normalised === 'v8.0') return { architecture: 'arm64', variant: 'v8' };
      if (normalised === 'v9.0') return { architecture: 'arm64', variant: 'v9' };
      return { architecture: 'arm64', variant: normalised };
    }
    case 'x86_64':
    case 'x86-64':
    case 'amd64': {
      const normalised = withV(given);
      return { architecture: 'amd64', variant: normalised === 'v1' ? undefined : normalised };
    }
    case 'i386':
    case 'i486':
    case 'i586':
    case 'i686':
    case 'x86':
    case '386':
      return { architecture: '386', variant: given };
    case 'armhf':
    case 'armv7':
    case 'armv7l':
      return { architecture: 'arm', variant: withV(given) ?? 'v7' };
    case 'armel':
    case 'armv6':
    case 'armv6l':
      return { architecture: 'arm', variant: withV(given) ?? 'v6' };
    case 'armv5':
    case 'armv5l':
    case 'armv5tel':
      return { architecture: 'arm', variant: withV(given) ?? 'v5' };
    case 'arm':
      return { architecture: 'arm', variant: withV(given) ?? 'v7' };
    default:
      return { architecture: arch, variant: given };
  }
}

/**
 * A platform in its canonical form: lowercase os and architecture, aliases mapped (`aarch64` →
 * `arm64`, `x86_64`/`x86-64` → `amd64`, `armhf` → `arm`/`v7`, `armel` → `arm`/`v6`,
 * `i386`/`i686`/`x86` → `386`), default variants filled in (`arm64` → `v8`, `arm` → `v7`),
 * numeric variants prefixed (`7` → `v7`) and amd64's `v1` dropped. `os.version`, `os.features`,
 * `features` and unknown fields are kept as they are. The input is not changed.
 * @public
 */
export function normalizePlatform(platform: Platform): Platform {
  const { architecture, variant } = normalizeArchitecture(platform.architecture, platform.variant);
  const { variant: _dropped, ...rest } = platform;
  const result: Platform = { ...rest, os: platform.os.trim().toLowerCase(), architecture };
  if (variant !== undefined) result.variant = variant;
  return result;
}

const NAME = /^[A-Za-z0-9._-]+$/;
const OS_PART = /^([^()]*)(?:\(([^()]*)\))?$/;

function invalidPlatform(text: string, problem: string): InvalidInputError {
  return new InvalidInputError(
    `invalid platform "${text}": ${problem}; a platform has the form os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8`,
    { code: GhcrErrorCode.INVALID_PLATFORM, input: text },
  );
}

/**
 * Parses `os/arch[/variant]` (`linux/amd64`, `linux/arm/v7`). The os may carry its version in
 * parentheses, as containerd writes it: `windows(10.0.17763)/amd64`. The result is as written,
 * not normalised (see {@link normalizePlatform}); surrounding whitespace is trimmed.
 * @throws InvalidInputError (`GHCR_INVALID_PLATFORM`) naming the problem: empty text, a missing
 * architecture, too many parts, an empty part, or characters other than letters, digits, `.`,
 * `_` and `-`.
 * @public
 */
export function parsePlatform(text: string): Platform {
  const trimmed = text.trim();
  if (trimmed === '') throw invalidPlatform(text, 'it is empty');
  const parts = trimmed.split('/');
  if (parts.length === 1) {
    throw invalidPlatform(
      trimmed,
      `it names no architecture (write "${trimmed}/amd64", "${trimmed}/arm64", …)`,
    );
  }
  if (parts.length > 3) throw invalidPlatform(trimmed, `it has ${parts.length} parts, at most 3 are allowed`);
  const [osPart = '', architecture = '', variant] = parts;
  const osMatch = OS_PART.exec(osPart);
  if (osMatch === null) throw invalidPlatform(trimmed, `the os "${osPart}" has unbalanced parentheses`);
  const os = osMatch[1] ?? '';
  const osVersion = osMatch[2];
  const named: [string, string | undefined][] = [
    ['os', os],
    ['architecture', architecture],
    ['variant', variant],
  ];
  for (const [label, value] of named) {
    if (value === undefined) continue;
    if (value === '') throw invalidPlatform(trimmed, `the ${label} is empty`);
    if (!NAME.test(value)) {
      throw invalidPlatform(
        trimmed,
        `the ${label} "${value}" may contain only letters, digits, ".", "_" and "-"`,
      );
    }
  }
  if (osVersion !== undefined && !NAME.test(osVersion)) {
    throw invalidPlatform(
      trimmed,
      `the os version "${osVersion}" may contain only letters, digits, ".", "_" and "-"`,
    );
  }
  const platform: Platform = { os, architecture };
  if (variant !== undefined) platform.variant = variant;
  if (osVersion !== undefined) platform['os.version'] = osVersion;
  return platform;
}

/**
 * Formats a platform as `os/arch[/variant]` (`linux/arm64/v8`), as given (not normalised). An
 * `os.version` is written in parentheses after the os (`windows(10.0.17763.1234)/amd64`), so
 * {@link parsePlatform} reads back what this writes.
 * @public
 */
export function formatPlatform(platform: Platform): string {
  const osVersion = platform['os.version'];
  const os = osVersion === undefined || osVersion === '' ? platform.os : `${platform.os}(${osVersion})`;
  const variant = platform.variant === undefined || platform.variant === '' ? '' : `/${platform.variant}`;
  return `${os}/${platform.architecture}${variant}`;
}

/**
 * Whether a candidate's os.version satisfies the wanted one. Windows images run on a host of the
 * same major.minor.build, so the comparison is on the components the wanted version gives, at
 * most three: `10.0.17763` matches `10.0.17763.1234`.
 */
function osVersionMatches(candidate: string | undefined, wanted: string | undefined): boolean {
  if (wanted === undefined || wanted === '') return true;
  if (candidate === undefined) return false;
  const wantedParts = wanted.split('.').slice(0, 3);
  const candidateParts = candidate.split('.');
  return wantedParts.every((part, position) => candidateParts[position] === part);
}

function osFeaturesMatch(
  candidate: readonly string[] | undefined,
  wanted: readonly string[] | undefined,
): boolean {
  if (wanted === undefined) return true;
  return wanted.every((feature) => candidate?.includes(feature) === true);
}

/**
 * True when `candidate` is the platform `wanted` asks for: after {@link normalizePlatform}, the same
 * os, architecture and variant (so `linux/arm64` matches `linux/arm64/v8`, `linux/arm` matches
 * `linux/arm/v7`); where `wanted` gives them, the same `os.version` (major.minor.build) and every
 * wanted `os.features` entry. Older compatible variants do not match here; see
 * {@link selectPlatformManifest}, which falls back to them.
 * @public
 */
export function platformMatches(candidate: Platform, wanted: Platform): boolean {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  return (
    c.os === w.os &&
    c.architecture === w.architecture &&
    c.variant === w.variant &&
    osVersionMatches(c['os.version'], w['os.version']) &&
    osFeaturesMatch(c['os.features'], w['os.features'])
  );
}

/** The order of a variant within its architecture (vN.M → N*1000+M), when the architecture has one. */
function variantRank(architecture: string, variant: string | undefined): number | undefined {
  if (architecture === 'amd64' && variant === undefined) return 1000;
  if (variant === undefined) return undefined;
  if (architecture !== 'arm' && architecture !== 'arm64' && architecture !== 'amd64') return undefined;
  const match = /^v(\d+)(?:\.(\d+))?$/.exec(variant);
  if (match === null) return undefined;
  return Number(match[1]) * 1000 + Number(match[2] ?? 0);
}

/**
 * True for entries with no platform and for `unknown/unknown` (buildx's attestation entries).
 * @internal
 */
export function isUnknownPlatform(platform: Platform | undefined): boolean {
  return platform === undefined || (platform.os === 'unknown' && platform.architecture === 'unknown');
}

type Score = readonly number[];

function compareScores(a: Score, b: Score): number {
  for (let position = 0; position < Math.max(a.length, b.length); position += 1) {
    const difference = (a[position] ?? 0) - (b[position] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * How well a candidate serves a wanted platform, or undefined when it cannot. Higher is better,
 * compared position by position: the same variant (after normalisation) beats an older compatible
 * one (arm/v6 on an arm/v7 host, arm64/v8 on v9, amd64/v2 on v3); the variant written exactly as
 * asked beats one that only normalises to it; the newest compatible variant wins; an exact
 * `os.version` beats one that matches only on major.minor.build.
 */
function score(candidate: Platform, wanted: Platform): Score | undefined {
  const c = normalizePlatform(candidate);
  const w = normalizePlatform(wanted);
  if (c.os !== w.os || c.architecture !== w.architecture) return undefined;
  if (!osVersionMatches(c['os.version'], w['os.version'])) return undefined;
  if (!osFeaturesMatch(c['os.features'], w['os.features'])) return undefined;
  const sameVariant = c.variant === w.variant;
  const candidateRank = variantRank(c.architecture, c.variant);
  const wantedRank = variantRank(w.architecture, w.variant);
  if (!sameVariant) {
    if (candidateRank === undefined || wantedRank === undefined || candidateRank > wantedRank)
      return undefined;
  }
  const exactlyAsWritten = (candidate.variant ?? '') === (wanted.variant ?? '') ? 1 : 0;
  const exactOsVersion = w['os.version'] !== undefined && c['os.version'] === w['os.version'] ? 1 : 0;
  return [sameVariant ? 1 : 0, exactlyAsWritten, candidateRank ?? 0, exactOsVersion];
}

/**
 * The entry of an index that best serves `wanted`, or undefined when none can. Entries without a
 * platform and `unknown/unknown` entries (buildx attestations) are skipped. An entry must have the
 * wanted os and architecture (after {@link normalizePlatform}), and the wanted `os.version`
 * (major.minor.build) and `os.features` where `wanted` gives them. Among those, the same variant
 * beats an older compatible variant (arm v7 runs v6 and v5; arm64 v9 runs v8; amd64 v3 runs v2
 * and v1), the variant written exactly as asked beats one that only normalises to it (`arm64/v8`
 * over a bare `arm64` when `v8` was asked), and an exact `os.version` beats a build-only match.
 * Ties go to the first entry.
 * @public
 */
export function selectPlatformManifest(index: ParsedIndex, wanted: Platform): Descriptor | undefined {
  let best: { descriptor: Descriptor; score: Score } | undefined;
  for (const descriptor of index.manifest.manifests) {
    const platform = descriptor.platform;
    if (platform === undefined || isUnknownPlatform(platform)) continue;
    const candidateScore = score(platform, wanted);
    if (candidateScore === undefined) continue;
    if (best === undefined || compareScores(candidateScore, best.score) > 0) {
      best = { descriptor, score: candidateScore };
    }
  }
  return best?.descriptor;
}

/**
 * The platforms of an index's entries, in order, as written; entries without a platform and
 * `unknown/unknown` entries (buildx attestations) are left out.
 * @public
 */
export function listPlatforms(index: ParsedIndex): Platform[] {
  const platforms: Platform[] = [];
  for (const descriptor of index.manifest.manifests) {
    if (!isUnknownPlatform(descriptor.platform) && descriptor.platform !== undefined) {
      platforms.push(descriptor.platform);
    }
  }
  return platforms;
}
