import { basename } from 'node:path';
import { InvalidInputError } from '@ghcr/oci-types';
import type { ArchiveFormat, ArchiveTarget } from './archive-common.js';
import { type DockerArchiveOptions, dockerArchive } from './docker-archive.js';
import { type OciArchiveOptions, ociArchive } from './oci-archive.js';
import { archiveError, openTar } from './tar-index.js';

/**
 * Options of {@link archiveTarget}: those of both formats.
 * @public
 */
export interface ArchiveTargetOptions extends DockerArchiveOptions, OciArchiveOptions {
  /** The format. If omitted: when reading, found from the content; when writing, from the name ({@link archiveFormatFromName}). */
  readonly format?: ArchiveFormat | undefined;
}

/**
 * The format an archive is written in when none is given, from its file name: `oci-archive` when
 * the name (without `.tar`) ends in `oci` (`app.oci.tar`, `app-oci.tar`, `app.oci`), else
 * `docker-archive` (what `docker load` reads).
 * @public
 */
export function archiveFormatFromName(path: string): ArchiveFormat {
  const name = basename(path)
    .toLowerCase()
    .replace(/\.tar$/, '');
  return /(?:^|[.\-_])oci(?:-archive)?$/.test(name) ? 'oci-archive' : 'docker-archive';
}

/**
 * The format of an existing archive, from its content: a `manifest.json` makes it a
 * docker-archive (Docker 25+ archives have both, and are read as `docker load` reads them), an
 * `index.json` with `oci-layout` an oci-archive. The tar (even gzip-compressed) is indexed once.
 * @throws InvalidInputError `GHCR_INVALID_ARCHIVE` when it is neither.
 * @public
 */
export async function detectArchiveFormat(path: string): Promise<ArchiveFormat> {
  const archive = await openTar(path);
  if (archive.has('manifest.json')) return 'docker-archive';
  if (archive.has('index.json') && archive.has('oci-layout')) return 'oci-archive';
  throw archiveError(
    archive.path,
    'it is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json and oci-layout)',
    'give an archive written by docker save, podman save, buildx or skopeo',
  );
}

/**
 * An archive of either format as a {@link ArchiveTarget}: {@link dockerArchive} or
 * {@link ociArchive}. Without `format`, an existing file's content decides (for reading; call it
 * with `format` for writing, or see {@link archiveFormatFromName}).
 *
 * ```ts
 * const source = await archiveTarget('./app.tar');
 * const out = await archiveTarget('./app.oci.tar', { format: archiveFormatFromName('./app.oci.tar') });
 * await copy(source, '', out, 'latest');
 * await out.commit();
 * ```
 * @public
 */
export async function archiveTarget(
  path: string,
  options: ArchiveTargetOptions = {},
): Promise<ArchiveTarget> {
  const format = options.format ?? (await detectArchiveFormat(path));
  if (format === 'docker-archive') return dockerArchive(path, options);
  if (format === 'oci-archive') return ociArchive(path, options);
  throw new InvalidInputError(
    `unknown archive format "${String(format)}"; use docker-archive or oci-archive`,
    {
      input: String(format),
    },
  );
}
