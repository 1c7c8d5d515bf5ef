import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipelineCallback, Readable } from 'node:stream';
import { DEFAULT_MAX_MANIFEST_BYTES, type ParsedManifest, parseManifest } from '@ghcr/manifest';
import {
  createContentVerifier,
  createVerifyingStream,
  type Descriptor,
  type DigestAlgorithm,
  DigestMismatchError,
  definedProps,
  digestStream,
  GhcrErrorCode,
  InvalidInputError,
  isDigest,
  NotFoundError,
  ProtocolError,
  parseDigest,
} from '@ghcr/oci-types';
import {
  type BlobInput,
  type BlobOpenOptions,
  type BlobSource,
  closeQuietly,
  recycledFileChunks,
  ringPays,
  toBlobSource,
} from '../registry/blob-source.js';
import { signalOption } from './content.js';
import { errorCode, fileFailure, LayoutPaths } from './layout-paths.js';
import type { Target } from './target.js';
import { writeVerifiedFile } from './verified-file-write.js';

/**
 * Bytes read from a blob file at a time (a push from a layout): each read is one buffer through
 * the request body. 256 KiB pieces cost a push 1.12-1.30× the CPU of 1 MiB ones; 512 KiB ones
 * cost the same CPU (10 pairs each of 1×256, 8×32 and 64×1 MiB: 1.00×, 0.87×, 0.97×), and an
 * upload's ring of 5 is then 2.5 MiB: a push of 8 × 32 MiB peaks at 79 MiB instead of 99, one
 * of a 1 GiB layer at 62.5 instead of 64.1 (docs/benchmarks.md, "Issue 18, sixth round").
 */
const READ_BUFFER_BYTES = 512 * 1024;
/**
 * With `sync`, a blob is written back to disk every this many bytes while the rest arrives: the
 * kernel would otherwise keep all of it dirty (its background write-back starts at 10 % of memory
 * or after 30 s), and the final `fdatasync` then waited for the whole blob at disk speed after
 * the last byte (docs/benchmarks.md, "Pull: write back while receiving"). 8 MiB: against 16, a
 * pull of 8 × 32 MiB took 0.965× and 0.98× the time (14 alternated pairs each; 0.96× in 9 in an
 * earlier round), one of 1 × 256 MiB 1.00×; 4 MiB gave back the gain (0.99×). Archives being
 * written do the same (`writeBlob`).
 * @internal
 */
export const EARLY_SYNC_BYTES = 8 * 1024 * 1024;
/** The annotation an OCI layout's `index.json` names its entries with. @public */
export const OCI_REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** The bytes skopeo writes to `oci-layout` (kept identical so layouts compare equal). */
const OCI_LAYOUT_FILE = '{"imageLayoutVersion": "1.0.0"}';
/** The largest `index.json` read. */
const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** image-spec "annotations.md": the grammar of `org.opencontainers.image.ref.name`. */
const REF_COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*';
const REF_NAME = new RegExp(`^${REF_COMPONENT}(?:/${REF_COMPONENT})*$`);
const TEMP_PREFIX = '.ghcr-tmp-';

/**
 * Options of {@link ociLayout}.
 * @public
 */
export interface OciLayoutOptions {
  /** Largest manifest read from the layout. If omitted, 4 MiB. */
  readonly maxManifestBytes?: number | undefined;
  /**
   * Hash a blob already in the layout before `exists` says it is there (a rerun then skips only
   * blobs that verify, and rewrites a damaged one). If omitted, true.
   */
  readonly verifyExisting?: boolean | undefined;
  /** `fdatasync` each blob before renaming it into place, so a crash cannot leave a whole-looking empty file. If omitted, true. */
  readonly sync?: boolean | undefined;
}

/**
 * An OCI image layout directory as a {@link Target}, read and written the way skopeo's
 * `oci:DIR:TAG` does: `oci-layout`, `index.json` whose entries are named by
 * `org.opencontainers.image.ref.name`, and `blobs/<alg>/<hex>`.
 * @public
 */
export interface OciLayoutTarget extends Target {
  /** The layout directory (absolute). */
  readonly directory: string;
  /** The entries of `index.json`, as written there. */
  list(): Promise<Descriptor[]>;
  /** A blob file read from any offset (not verified: the reader verifies). */
  source(descriptor: Descriptor): BlobSource;
}

interface IndexDocument {
  [key: string]: unknown;
  manifests: Record<string, unknown>[];
}

/**
 * Opens (or, on the first write, creates) an OCI image layout. Blobs are written to a temporary
 * file at the layout's top (`.ghcr-tmp-…`), verified against their digest and size while they are
 * written, synced, and only then renamed to `blobs/<alg>/<hex>`: an interrupted or corrupted
 * transfer leaves nothing that looks whole, and a rerun skips blobs that are there and verify.
 * Digest-derived paths are checked and symbolic links may not lead out of the directory.
 *
 * ```ts
 * const layout = ociLayout('./app-layout');
 * await copy(remoteRepository(client, 'octo/app'), '1.0', layout, '1.0');
 * ```
 * @public
 */
export function ociLayout(directory: string, options: OciLayoutOptions = {}): OciLayoutTarget {
  const paths = new LayoutPaths(directory);
  const maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  const verifyExisting = options.verifyExisting ?? true;
  const sync = options.sync ?? true;
  // The batch buffers blob writes from a source of views reuse, file after file (writeVerifiedFile).
  const spareBatches: Buffer[] = [];
  const name = `oci:${paths.directory}`;
  /** Blob files verified by this instance: path → `size:mtime:inode` when verified. */
  const verified = new Map<string, string>();
  let initialised: Promise<string> | undefined;
  let indexLock: Promise<unknown> = Promise.resolve();

  /** Makes the directory a layout (oci-layout, blobs/, index.json) unless it is one. */
  const initialise = (): Promise<string> => {
    initialised ??= (async () => {
      const root = await paths.root(true);
      const layoutFile = await paths.topFile('oci-layout', true);
      try {
        checkLayoutFile(await readFile(layoutFile, 'utf8'), layoutFile);
      } catch (error) {
        if (errorCode(error) !== 'ENOENT') throw error;
        await writeAtomic(root, 'oci-layout', OCI_LAYOUT_FILE);
      }
      const indexFile = await paths.topFile('index.json', true);
      if (!(await fileExists(indexFile))) {
        await writeAtomic(root, 'index.json', goJson({ schemaVersion: 2, manifests: [] }));
      }
      return root;
    })();
    initialised.catch(() => {
      initialised = undefined;
    });
    return initialised;
  };

  const readIndex = async (): Promise<IndexDocument> => {
    const path = await paths.topFile('index.json', false);
    let bytes: Buffer;
    try {
      const info = await stat(path);
      if (info.size > MAX_INDEX_BYTES) {
        throw new ProtocolError(
          `${path} has ${info.size} bytes, over the ${MAX_INDEX_BYTES}-byte limit for an OCI layout index`,
          { code: GhcrErrorCode.MANIFEST_TOO_LARGE },
        );
      }
      bytes = await readFile(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') {
        throw new NotFoundError(
          `"${paths.directory}" is not an OCI image layout: it has no index.json; pull or copy an image there first`,
          { resource: path },
        );
      }
      throw error;
    }
    // Validate (descriptors, digests) before trusting anything in it.
    parseManifest(bytes, {
      maxBytes: MAX_INDEX_BYTES,
      contentType: 'application/vnd.oci.image.index.v1+json',
    });
    const document = JSON.parse(bytes.toString('utf8')) as IndexDocument;
    return document;
  };

  const updateIndex = (mutate: (document: IndexDocument) => void): Promise<void> => {
    const run = indexLock.then(async () => {
      const root = await initialise();
      const document = await readIndex();
      mutate(document);
      await writeAtomic(root, 'index.json', goJson(document));
    });
    indexLock = run.catch(() => {});
    return run;
  };

  const blobFile = async (descriptor: Descriptor): Promise<string> => {
    const { path } = await paths.blobPath(descriptor.digest, false);
    await paths.checkLink(await paths.root(false), path);
    return path;
  };

  const openFile = (
    descriptor: Descriptor,
    offset: number,
    signal?: AbortSignal,
    options: BlobOpenOptions = {},
  ): Readable =>
    Readable.from(
      (async function* fileBytes() {
        const path = await blobFile(descriptor);
        const stream =
          options.recycleAfter !== undefined && ringPays(descriptor.size - offset, options, READ_BUFFER_BYTES)
            ? recycledFileChunks(path, offset, options.recycleAfter, signal, READ_BUFFER_BYTES)
            : createReadStream(path, {
                start: offset,
                highWaterMark: READ_BUFFER_BYTES,
                ...signalOption(signal),
              });
        try {
          for await (const chunk of stream) yield chunk as Buffer;
        } catch (error) {
          if (errorCode(error) === 'ENOENT') throw missing(descriptor);
          throw fileFailure(error, `reading blob ${descriptor.digest} of ${name}`, path, signal);
        } finally {
          closeQuietly(stream);
        }
      })(),
      { objectMode: false },
    );

  /** Runs a layout operation, turning low-level failures into GhcrErrors. */
  const guard = async <T>(action: string, run: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw fileFailure(error, action, paths.directory, signal);
    }
  };

  const missing = (descriptor: Descriptor): NotFoundError =>
    new NotFoundError(
      `${name} has no blob ${descriptor.digest}; the layout is incomplete, pull the image again`,
      {
        resource: descriptor.digest,
      },
    );

  const exists = async (descriptor: Descriptor): Promise<boolean> => {
    try {
      await paths.root(false);
    } catch (error) {
      if (NotFoundError.isInstance(error)) return false; // no layout yet: nothing is there
      throw error;
    }
    const { path } = await paths.blobPath(descriptor.digest, false);
    const info = await paths.fileInfo(await paths.root(false), path);
    if (info === undefined || !info.isFile() || info.size !== descriptor.size) return false;
    if (!verifyExisting) return true;
    const key = `${info.size}:${info.mtimeMs}:${info.ino}`;
    if (verified.get(path) === key) return true;
    const { algorithm } = parseDigest(descriptor.digest);
    const actual = await digestStream(createReadStream(path), algorithm as DigestAlgorithm);
    if (actual.digest !== descriptor.digest) return false;
    verified.set(path, key);
    return true;
  };

  return {
    name,
    directory: paths.directory,
    resolve: (reference) =>
      guard(`resolving "${reference}" in ${name}`, async () => {
        const document = await readIndex();
        const entries = document.manifests as unknown as Descriptor[];
        const named = (entry: Descriptor): string | undefined => entry.annotations?.[OCI_REF_NAME_ANNOTATION];
        const available = (): string =>
          entries
            .map(named)
            .filter((value) => value !== undefined)
            .join(', ') || 'no named entries';
        if (reference === '') {
          const only = entries[0];
          if (entries.length === 1 && only !== undefined) return only;
          throw new InvalidInputError(
            `${name} has ${entries.length} entries in index.json; name one (${available()})`,
            { code: GhcrErrorCode.INVALID_REFERENCE, input: reference },
          );
        }
        const matches = entries.filter((entry) => named(entry) === reference);
        const first = matches[0];
        if (first !== undefined) {
          if (matches.some((entry) => entry.digest !== first.digest)) {
            throw new ProtocolError(
              `${name}: index.json names ${matches.length} different manifests "${reference}"; remove the duplicates`,
              { code: GhcrErrorCode.INVALID_REFERENCE },
            );
          }
          return first;
        }
        if (isDigest(reference)) {
          const listed = entries.find((entry) => entry.digest === reference);
          if (listed !== undefined) return listed;
          const path = await blobFile({ mediaType: 'application/octet-stream', digest: reference, size: 0 });
          if (await fileExists(path)) {
            const bytes = await readCappedFile(path, maxManifestBytes, `${name} blob ${reference}`);
            const parsed = parseManifest(bytes, { expectedDigest: reference, maxBytes: maxManifestBytes });
            return { mediaType: parsed.mediaType, digest: parsed.digest, size: parsed.size };
          }
        }
        throw new NotFoundError(`${name} has no manifest named "${reference}"; it has: ${available()}`, {
          code: 'MANIFEST_UNKNOWN',
          resource: `${name}:${reference}`,
        });
      }),
    exists: (descriptor) => guard(`checking blob ${descriptor.digest} in ${name}`, () => exists(descriptor)),
    fetch(descriptor, readOptions = {}) {
      const verifier = createVerifyingStream(descriptor.digest, {
        size: descriptor.size,
        what: `blob ${descriptor.digest} of ${name}`,
      });
      pipelineCallback(openFile(descriptor, 0, readOptions.signal), verifier, () => {
        // Errors reach the consumer through `verifier`.
      });
      return verifier;
    },
    fetchManifest: (descriptor): Promise<ParsedManifest> =>
      guard(`reading manifest ${descriptor.digest} of ${name}`, async () => {
        const path = await blobFile(descriptor);
        const limit = Math.max(maxManifestBytes, descriptor.size);
        let bytes: Uint8Array;
        try {
          bytes = await readCappedFile(path, limit, `manifest ${descriptor.digest} of ${name}`);
        } catch (error) {
          if (errorCode(error) === 'ENOENT') throw missing(descriptor);
          throw error;
        }
        if (bytes.byteLength !== descriptor.size) {
          throw new ProtocolError(
            `manifest ${descriptor.digest} of ${name} has ${bytes.byteLength} bytes but its descriptor says ${descriptor.size}`,
            { code: GhcrErrorCode.SIZE_MISMATCH },
          );
        }
        try {
          return parseManifest(bytes, {
            contentType: descriptor.mediaType,
            expectedDigest: descriptor.digest,
            maxBytes: limit,
          });
        } catch (error) {
          // parseManifest speaks of a registry; here the bytes come from a file.
          if (DigestMismatchError.isInstance(error)) {
            throw new DigestMismatchError(
              `manifest ${descriptor.digest} of ${name} is corrupt: its file hashes to ${error.actual}; pull the image into the layout again`,
              { expected: descriptor.digest, actual: error.actual, cause: error },
            );
          }
          throw error;
        }
      }),
    source(descriptor): BlobSource {
      return {
        size: descriptor.size,
        open: (offset, signal, options) => openFile(descriptor, offset, signal, options),
      };
    },
    push: (descriptor, content: BlobInput, pushOptions = {}) =>
      guard(
        `writing blob ${descriptor.digest} to ${name}`,
        async () => {
          const digest = parseDigest(descriptor.digest).digest;
          const root = await initialise();
          // A symbolic link already at `path` is replaced by the rename, never followed.
          const { path } = await paths.blobPath(digest, true);
          const temp = join(root, `${TEMP_PREFIX}${randomUUID()}`);
          // 'wx': never follows or reuses a file already at the temporary name. The bytes go
          // straight from the source to the file in batches (writeVerifiedFile), verified on the
          // way; the file is renamed into place only once they verified.
          const handle = await open(temp, 'wx', 0o644);
          let stream: ReturnType<BlobSource['open']> | undefined;
          try {
            stream = toBlobSource(content).open(0, pushOptions.signal);
            const onProgress = pushOptions.onProgress;
            await writeVerifiedFile(
              stream,
              handle,
              createContentVerifier(digest, {
                size: descriptor.size,
                what: `blob ${digest} written to ${name}`,
              }),
              {
                ...definedProps({ onBytes: onProgress }),
                ...(sync ? { syncEveryBytes: EARLY_SYNC_BYTES } : {}),
                spareBatches,
                ...signalOption(pushOptions.signal),
              },
            );
            // Every byte is read and verified: what is left is this disk's (sync, rename).
            pushOptions.onContentRead?.();
            if (sync) await handle.datasync();
            // The inode and mtime stay the same through the rename.
            const info = await handle.stat();
            await handle.close();
            await rename(temp, path);
            verified.set(path, `${info.size}:${info.mtimeMs}:${info.ino}`);
            return { method: 'transferred' } as const;
          } catch (error) {
            if (stream !== undefined) closeQuietly(stream);
            // Remove the temporary file only once it is closed.
            await handle.close().catch(() => {});
            await rm(temp, { force: true });
            throw error;
          }
        },
        pushOptions.signal,
      ),
    tag: (descriptor, reference) =>
      guard(`naming ${descriptor.digest} "${reference}" in ${name}`, async () => {
        const digest = parseDigest(descriptor.digest).digest;
        const byDigest = isDigest(reference);
        if (byDigest && reference !== digest) {
          throw new InvalidInputError(
            `cannot record ${digest} in ${name} under the digest ${reference}: a digest reference names its own content`,
            { code: GhcrErrorCode.INVALID_REFERENCE, input: reference },
          );
        }
        if (!byDigest && !REF_NAME.test(reference)) {
          throw new InvalidInputError(
            `"${reference}" is not a valid OCI layout reference name: letters and digits, separated by "-", ".", "_", ":", "@", "+" or "--", in "/"-separated parts (e.g. v1.0 or app:v1)`,
            { code: GhcrErrorCode.INVALID_REFERENCE, input: reference },
          );
        }
        await initialise();
        if (!(await fileExists(await blobFile(descriptor)))) {
          throw new NotFoundError(
            `cannot name ${digest} "${reference}" in ${name}: the layout does not have that manifest; push it first`,
            { resource: digest },
          );
        }
        const entry: Record<string, unknown> = {
          mediaType: descriptor.mediaType,
          digest,
          size: descriptor.size,
          ...(byDigest ? {} : { annotations: { [OCI_REF_NAME_ANNOTATION]: reference } }),
        };
        await updateIndex((document) => {
          if (byDigest) {
            if (!document.manifests.some((existing) => existing.digest === digest))
              document.manifests.push(entry);
            return;
          }
          document.manifests = document.manifests.filter(
            (existing) =>
              (existing.annotations as Record<string, unknown> | undefined)?.[OCI_REF_NAME_ANNOTATION] !==
              reference,
          );
          document.manifests.push(entry);
        });
      }),
    list: () =>
      guard(
        `reading the index of ${name}`,
        async () => (await readIndex()).manifests as unknown as Descriptor[],
      ),
  };
}

function checkLayoutFile(text: string, path: string): void {
  let version: unknown;
  try {
    version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (error) {
    throw new InvalidInputError(`${path} is not JSON; the directory is not an OCI image layout`, {
      cause: error,
    });
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new InvalidInputError(
      `${path} declares imageLayoutVersion ${JSON.stringify(version)}; only 1.x layouts are supported`,
      { input: path },
    );
  }
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

async function readCappedFile(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const info = await stat(path);
  if (info.size > maxBytes) {
    throw new ProtocolError(`${what} has ${info.size} bytes, over the ${maxBytes}-byte manifest limit`, {
      code: GhcrErrorCode.MANIFEST_TOO_LARGE,
    });
  }
  return readFile(path);
}

/** Writes a file at the layout's top through a temporary name and a rename. */
async function writeAtomic(root: string, fileName: string, text: string): Promise<void> {
  const temp = join(root, `${TEMP_PREFIX}${randomUUID()}`);
  try {
    await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
    await rename(temp, join(root, fileName));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * JSON as Go's `encoding/json` writes it (what skopeo leaves in `index.json`): compact, with
 * `<`, `>`, `&`, U+2028 and U+2029 escaped, so a layout written here compares equal to skopeo's.
 * @internal
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
