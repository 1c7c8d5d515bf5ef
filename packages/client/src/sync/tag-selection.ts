import semver from 'semver';
import type { SyncTagSelection } from './config.js';

/**
 * The tags a selection takes from a source's tag list, and notes on what it passed over.
 * @public
 */
export interface SelectedTags {
  /** Tags taken, in the source's order (newest first when `newest` applies). */
  readonly tags: readonly string[];
  /** Why some tags were passed over (`not semver: latest, edge`). */
  readonly notes: readonly string[];
}

/** `sha256-<64 hex>` optionally followed by `.sig`, `.att`, `.sbom` or another suffix. */
const DIGEST_TAG = /^sha256-[0-9a-f]{64}(\..+)?$/;

/**
 * True for a `sha256-<hex>[.suffix]` tag (cosign's signature tags, the referrers fallback index).
 * @public
 */
export function isDigestTag(tag: string): boolean {
  return DIGEST_TAG.test(tag);
}

/** A shell-style glob as an anchored regular expression. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * The semver version a tag names (`1.2.3`, `v1.2.3`), or undefined. Loose forms (`1.2`, `3`) are
 * not versions: they are moving tags, taken by a glob or a list, not by a range.
 * @public
 */
export function tagVersion(tag: string): semver.SemVer | undefined {
  const text = /^v\d/.test(tag) ? tag.slice(1) : tag;
  return semver.valid(text) === null ? undefined : new semver.SemVer(text);
}

/**
 * Applies a selection to the source's tags. Digest tags are left to the caller (see
 * `isDigestTag`). `newest.by: 'created'` is not applied here (it needs the images): the tags come
 * back unlimited, and the caller keeps the newest.
 * @public
 */
export function selectTags(all: readonly string[], selection: SyncTagSelection): SelectedTags {
  const notes: string[] = [];
  const globs = (selection.glob ?? []).map(globToRegExp);
  const regexes = (selection.regex ?? []).map((source) => new RegExp(`^(?:${source})$`));
  const deny = (selection.deny ?? []).map(globToRegExp);
  const list = new Set(selection.list ?? []);
  const range = selection.semver;
  const wantsAll =
    selection.list === undefined && globs.length === 0 && regexes.length === 0 && range === undefined;
  const notSemver: string[] = [];
  const prereleases: string[] = [];
  const taken = all.filter((tag) => {
    if (isDigestTag(tag)) return false;
    if (deny.some((pattern) => pattern.test(tag))) return false;
    if (wantsAll || list.has(tag) || globs.some((p) => p.test(tag)) || regexes.some((p) => p.test(tag))) {
      return true;
    }
    if (range === undefined) return false;
    const version = tagVersion(tag);
    if (version === undefined) {
      notSemver.push(tag);
      return false;
    }
    if (version.prerelease.length > 0 && selection.prerelease !== true) {
      if (semver.satisfies(version, range, { includePrerelease: true })) prereleases.push(tag);
      return false;
    }
    return semver.satisfies(version, range, { includePrerelease: selection.prerelease === true });
  });
  for (const tag of list) {
    if (!all.includes(tag)) notes.push(`tag ${tag} is listed but the source has no such tag`);
  }
  if (notSemver.length > 0) notes.push(`not semver, skipped by the range ${range}: ${notSemver.join(', ')}`);
  if (prereleases.length > 0) {
    notes.push(`prereleases skipped (set tags.prerelease: true to take them): ${prereleases.join(', ')}`);
  }
  const newest = selection.newest;
  if (newest === undefined || newest.by === 'created') return { tags: taken, notes };
  const versioned = taken.filter((tag) => tagVersion(tag) !== undefined);
  const unversioned = taken.filter((tag) => tagVersion(tag) === undefined);
  if (unversioned.length > 0) {
    notes.push(`not semver, left out of the newest ${newest.count}: ${unversioned.join(', ')}`);
  }
  const sorted = versioned.sort((a, b) =>
    semver.rcompare(tagVersion(a) as semver.SemVer, tagVersion(b) as semver.SemVer),
  );
  return { tags: sorted.slice(0, newest.count), notes };
}
