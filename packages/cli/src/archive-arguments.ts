import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type ArchiveFormat, archiveFormatFromName, detectArchiveFormat } from '@ghcr/client/core';
import { definedProps } from '@ghcr/oci-types';
import { usageError } from './errors.js';

/**
 * An archive named on the command line: `docker-archive:FILE[:IMAGE]`, `oci-archive:FILE[:IMAGE]`,
 * or a plain `FILE[:IMAGE]` whose format is found from its content.
 * @internal
 */
export interface ArchiveArgument {
  /** The archive file (absolute). */
  readonly path: string;
  /** Given by the prefix; `undefined` for a plain file (detected when read). */
  readonly format?: ArchiveFormat;
  /** `NAME[:TAG]` or `@INDEX`; `undefined` when none was given. */
  readonly image?: string;
}

const PREFIXES: readonly ArchiveFormat[] = ['docker-archive', 'oci-archive'];

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `FILE[:IMAGE]`: the longest leading part that is a file, and what follows its colon. */
async function splitFile(rest: string): Promise<{ path: string; image?: string } | undefined> {
  if (await isFile(rest)) return { path: rest };
  for (let colon = rest.indexOf(':'); colon > 0; colon = rest.indexOf(':', colon + 1)) {
    const path = rest.slice(0, colon);
    const image = rest.slice(colon + 1);
    if (image !== '' && (await isFile(path))) return { path, image };
  }
  return undefined;
}

/**
 * An archive to read (`ghcr push`): `docker-archive:`/`oci-archive:` prefixed, or a plain file
 * whose content is a docker-archive or an oci-archive (plain or gzip-compressed). `undefined` when
 * the argument is not one (a directory, files of an artifact, a media-type suffix).
 * @throws InvalidInputError (`GHCR_USAGE`) for a prefixed argument whose file does not exist.
 * @internal
 */
export async function archiveToRead(input: string): Promise<ArchiveArgument | undefined> {
  const prefix = PREFIXES.find((format) => input.startsWith(`${format}:`));
  const rest = prefix === undefined ? input : input.slice(prefix.length + 1);
  const split = await splitFile(rest);
  if (split === undefined) {
    if (prefix !== undefined) throw usageError(`"${rest}": no such archive file (from "${input}")`);
    return undefined;
  }
  // A plain FILE:SUFFIX with a "/" in the suffix is a file with a media type (an artifact).
  if (prefix === undefined && split.image?.includes('/') === true && !split.image.includes(':')) {
    return undefined;
  }
  if (prefix === undefined) {
    try {
      await detectArchiveFormat(split.path);
    } catch {
      return undefined;
    }
  }
  return {
    path: resolve(split.path),
    ...definedProps({ format: prefix, image: split.image }),
  };
}

/**
 * An archive to write (`ghcr pull`): `docker-archive:FILE` / `oci-archive:FILE`, or a plain
 * `FILE` ending in `.tar` (or with `--format`). The format: the prefix, else `--format`, else from
 * the name (`*.oci.tar` → oci-archive, other names docker-archive). `undefined` when the argument
 * is a directory for an OCI image layout.
 * @internal
 */
export function archiveToWrite(input: string, format: string | undefined): ArchiveArgument | undefined {
  if (format !== undefined && !PREFIXES.includes(format as ArchiveFormat)) {
    throw usageError(`--format must be docker-archive or oci-archive, not "${format}"`);
  }
  const prefix = PREFIXES.find((name) => input.startsWith(`${name}:`));
  const path = prefix === undefined ? input : input.slice(prefix.length + 1);
  if (prefix !== undefined && format !== undefined && prefix !== format) {
    throw usageError(`"${input}" says ${prefix} but --format says ${format}; give one`);
  }
  if (prefix === undefined && format === undefined && !/\.tar$/i.test(path)) return undefined;
  if (path === '') throw usageError(`"${input}" names no file`);
  return {
    path: resolve(path),
    format: (prefix ?? format ?? archiveFormatFromName(path)) as ArchiveFormat,
  };
}
