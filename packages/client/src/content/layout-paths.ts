import type { Stats } from 'node:fs';
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  definedProps,
  FileSystemError,
  GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  NotFoundError,
  parseDigest,
  TransportError,
} from '@ghcr/oci-types';

/**
 * Paths inside one OCI image layout, refusing any that would leave it: digests are checked
 * against the digest grammar (no `/`, no `..`), and a symbolic link on the way (`blobs`,
 * `blobs/<alg>`, a blob file, `index.json`) may only point inside the layout.
 * @internal
 */
export class LayoutPaths {
  readonly directory: string;
  #root: string | undefined;
  /**
   * `blobs/<alg>` directories found there and checked: like the root's real path, each is checked
   * once for the life of this object, so a pull does not lstat two directories per blob.
   */
  readonly #checked = new Set<string>();

  constructor(directory: string) {
    this.directory = resolve(directory);
  }

  /** The layout's real path; with `create`, the directory is made first. */
  async root(create: boolean): Promise<string> {
    if (this.#root !== undefined) return this.#root;
    if (create) await mkdir(this.directory, { recursive: true });
    try {
      this.#root = await realpath(this.directory);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new NotFoundError(
          `there is no OCI image layout at "${this.directory}": the directory does not exist; pull or copy an image there first`,
          { resource: this.directory },
        );
      }
      throw error;
    }
    return this.#root;
  }

  /**
   * `blobs/<alg>/<encoded>` of a digest, its directories checked (and made, with `create`).
   * @throws InvalidInputError for a malformed digest or a path that leads outside the layout.
   */
  async blobPath(
    digest: string,
    create: boolean,
  ): Promise<{ path: string; algorithm: string; encoded: string }> {
    const { algorithm, encoded } = parseDigest(digest);
    const root = await this.root(create);
    const dir = await this.#blobDirectory(root, algorithm, create);
    const path = join(dir, encoded);
    const rel = relative(root, path);
    if (leaves(rel) || rel.split(sep).length !== 3) {
      throw this.outside(digest, path);
    }
    return { path, algorithm, encoded };
  }

  /** A file at the layout's top (`index.json`, `oci-layout`); a link there must stay inside. */
  async topFile(name: 'index.json' | 'oci-layout', create: boolean): Promise<string> {
    const root = await this.root(create);
    const path = join(root, name);
    await this.checkLink(root, path);
    return path;
  }

  /** When `path` is a symbolic link, its target must be inside the layout. Missing paths pass. */
  async checkLink(root: string, path: string): Promise<void> {
    const info = await statOrNothing(lstat, path);
    if (info?.isSymbolicLink() === true) await this.#checkLinkTarget(root, path);
  }

  /**
   * What is at `path` (followed when it is a symbolic link, whose target must be inside the
   * layout); `undefined` when nothing is. One `lstat` for a plain file.
   */
  async fileInfo(root: string, path: string): Promise<Stats | undefined> {
    const info = await statOrNothing(lstat, path);
    if (info?.isSymbolicLink() !== true) return info;
    await this.#checkLinkTarget(root, path);
    return statOrNothing(stat, path);
  }

  async #checkLinkTarget(root: string, path: string): Promise<void> {
    let target: string;
    try {
      target = await realpath(path);
    } catch {
      throw this.outside(path, path);
    }
    if (!inside(root, target)) throw this.outside(path, target);
  }

  /**
   * `blobs/<alg>`, checked (and made, with `create`) until it has been found there and passed;
   * from then on it is not checked again.
   */
  async #blobDirectory(root: string, algorithm: string, create: boolean): Promise<string> {
    const path = join(root, 'blobs', algorithm);
    if (this.#checked.has(path)) return path;
    if ((await this.#directory(root, join(root, 'blobs'), create)) === undefined) return path;
    if ((await this.#directory(root, path, create)) !== undefined) this.#checked.add(path);
    return path;
  }

  /** Checks a directory of the layout: `undefined` when it is missing (and not made). */
  async #directory(root: string, path: string, create: boolean): Promise<string | undefined> {
    let info = await statOrNothing(lstat, path);
    if (info === undefined) {
      if (!create) return undefined;
      await mkdir(path).catch((error: unknown) => {
        if (errorCode(error) !== 'EEXIST') throw error;
      });
      info = await lstat(path);
    }
    if (info.isSymbolicLink()) {
      const target = await realpath(path);
      if (!inside(root, target)) throw this.outside(path, target);
      return path;
    }
    if (!info.isDirectory()) {
      throw new InvalidInputError(
        `"${path}" in the OCI layout at "${this.directory}" is not a directory; the layout is damaged, use an empty directory`,
        { code: GhcrErrorCode.BAD_REQUEST, input: path },
      );
    }
    return path;
  }

  outside(what: string, target: string): InvalidInputError {
    return new InvalidInputError(
      `refusing "${what}": it would lead outside the OCI layout at "${this.directory}" (to "${target}"); remove the symbolic link or use another directory`,
      { code: GhcrErrorCode.BAD_REQUEST, input: what },
    );
  }
}

/** `lstat` or `stat` of a path; `undefined` when nothing is there. */
async function statOrNothing(
  statOf: (path: string) => Promise<Stats>,
  path: string,
): Promise<Stats | undefined> {
  try {
    return await statOf(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function leaves(rel: string): boolean {
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

function inside(root: string, target: string): boolean {
  return !leaves(relative(root, target));
}

/** The `code` of a Node.js system error. @internal */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

const ADVICE: Record<string, string> = {
  ENOSPC: 'the disk is full; free space and run it again (blobs already written are kept)',
  EDQUOT: 'the disk quota is exhausted; free space and run it again',
  EACCES: 'permission denied; use a directory you may write to',
  EPERM: 'permission denied; use a directory you may write to',
  EROFS: 'the file system is read-only; use another directory',
};

/**
 * Turns a low-level failure of a file operation (an OCI layout, an artifact file) into a GhcrError: an abort becomes
 * TransportError `GHCR_ABORTED`, a Node.js system error a {@link FileSystemError} naming the path.
 * @internal
 */
export function fileFailure(error: unknown, action: string, path: string, signal?: AbortSignal): unknown {
  if (GhcrError.isInstance(error)) return error;
  const name = error instanceof Error ? error.name : '';
  if (signal?.aborted === true || name === 'AbortError') {
    return new TransportError(`${action}: aborted`, {
      code: GhcrErrorCode.ABORTED,
      cause: error,
      isRetryable: false,
    });
  }
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new FileSystemError(
    `${action} failed at "${path}": ${message}${code !== undefined && ADVICE[code] ? `; ${ADVICE[code]}` : ''}`,
    { path, cause: error, ...definedProps({ systemCode: code }) },
  );
}
