import { stat } from 'node:fs/promises';
import type { PlatformSelection } from '@ghcr/client';
import { parsePlatform } from '@ghcr/manifest';
import { type Reference, splitPackagePath } from '@ghcr/oci-types';
import { InvalidArgumentError } from 'commander';
import { usageError } from './errors.js';
import { repositoryReference } from './references.js';

/**
 * Commander collector for a repeatable option (`--annotation a=b --annotation c=d`).
 * @internal
 */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Commander parser for a whole number of at least 0 (`--keep-n-tagged 5`).
 * @internal
 */
export function parseCount(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) {
    throw new InvalidArgumentError(`expected a whole number of 0 or more, got "${value}".`);
  }
  return parsed;
}

/**
 * `--annotation key=value` arguments as a record (a key given twice keeps the last value).
 * @throws InvalidInputError (`GHCR_USAGE`) for an argument without `=` or with an empty key.
 * @internal
 */
export function parseAnnotations(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (values === undefined || values.length === 0) return undefined;
  const annotations: Record<string, string> = {};
  for (const value of values) {
    const equals = value.indexOf('=');
    if (equals <= 0) {
      throw usageError(
        `--annotation "${value}" is not key=value; write e.g. --annotation org.opencontainers.image.description="my image"`,
      );
    }
    annotations[value.slice(0, equals)] = value.slice(equals + 1);
  }
  return annotations;
}

/**
 * `--platform P` / `--all-platforms` as the client's selection. Neither: the whole index (the
 * client's default). Both: a usage error.
 * @internal
 */
export function platformSelection(options: {
  readonly platform?: string;
  readonly allPlatforms?: boolean;
}): PlatformSelection {
  if (options.platform !== undefined && options.allPlatforms === true) {
    throw usageError(
      'give either --platform (one platform of an index) or --all-platforms (the whole index), not both',
    );
  }
  if (options.platform !== undefined) {
    // Checked here so a bad platform is a usage error before anything is sent.
    parsePlatform(options.platform);
    return { platform: options.platform };
  }
  return { allPlatforms: true };
}

/**
 * A package argument: `[registry/]owner/package`. The registry decides whose credentials the
 * Packages API gets, and where `cleanup` reads manifests.
 * @internal
 */
export interface PackageArgument {
  readonly registry: string;
  /** `owner/package` as a repository path (`octo-org/app`, `octo-org/team/app`). */
  readonly repository: string;
  readonly owner: string;
  readonly packageName: string;
}

/**
 * The registry whose packages a GitHub REST API serves: ghcr.io for api.github.com,
 * `containers.<host>` for a GitHub Enterprise Server (`https://<host>/api/v3`), else the API's own
 * address (`ghcr serve`, whose API is `http://<registry>/api`).
 * @internal
 */
export function registryOfApi(apiUrl: string): string {
  const url = new URL(apiUrl);
  const host = url.host.toLowerCase();
  if (host === 'api.github.com') return 'ghcr.io';
  if (/^\/api\/v3\/?$/.test(url.pathname)) return `containers.${host}`;
  return host;
}

/**
 * Parses a package argument. Without a registry in it, the registry is the API URL's
 * ({@link registryOfApi}).
 * @throws InvalidInputError (`GHCR_USAGE`) for a tag or digest in it, or a path without an owner.
 * @internal
 */
export function packageArgument(input: string, apiUrl: string): PackageArgument {
  const first = input.split('/')[0] ?? '';
  const namesRegistry =
    input.includes('/') &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  let reference: Reference;
  try {
    reference = repositoryReference(namesRegistry ? input : `${registryOfApi(apiUrl)}/${input}`);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'GHCR_USAGE') {
      throw usageError(
        `"${input}" names an image; give the package as [registry/]owner/package, e.g. octo-org/app`,
      );
    }
    throw error;
  }
  const apiRegistry = registryOfApi(apiUrl);
  const apiHost = new URL(apiUrl).host.toLowerCase();
  const registry = reference.registry.toLowerCase();
  if (registry !== apiRegistry && registry !== apiHost) {
    throw usageError(
      `the Packages API at ${apiUrl} serves the packages of ${apiRegistry}, not of ${reference.registry}; pass that registry's API URL with --api-url (ghcr serve prints it: http://${reference.registry}/api)`,
    );
  }
  let parts: { owner: string; packageName: string };
  try {
    parts = splitPackagePath(reference.repository);
  } catch (error) {
    throw usageError(
      `"${input}" is not owner/package: a GitHub package is named by its owner and name, e.g. octo-org/app`,
      { cause: error },
    );
  }
  return { registry: reference.registry, repository: reference.repository, ...parts };
}

/**
 * A path argument: `path`; or, when `path` itself does not exist, `file:media-type` (as oras writes
 * it) or `directory:name` (an entry of an OCI image layout, as skopeo's `oci:DIR:NAME`).
 * @internal
 */
export interface PathArgument {
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** After the last `:`: a file's media type, or the name of a layout entry. */
  readonly suffix?: string;
}

/**
 * Resolves a path argument against the file system.
 * @throws InvalidInputError (`GHCR_USAGE`) when neither the path nor its `path:suffix` form names a
 * file or directory.
 * @internal
 */
export async function pathArgument(input: string): Promise<PathArgument> {
  const found = await kindOf(input);
  if (found !== undefined) return { path: input, kind: found };
  const colon = input.lastIndexOf(':');
  if (colon > 0 && colon < input.length - 1) {
    const path = input.slice(0, colon);
    const suffix = input.slice(colon + 1);
    const kind = await kindOf(path);
    if ((kind === 'file' && suffix.includes('/')) || kind === 'directory') return { path, kind, suffix };
  }
  throw usageError(`"${input}": no such file or directory`);
}

async function kindOf(path: string): Promise<'file' | 'directory' | undefined> {
  try {
    const stats = await stat(path);
    if (stats.isDirectory()) return 'directory';
    if (stats.isFile()) return 'file';
    return undefined;
  } catch {
    return undefined;
  }
}
