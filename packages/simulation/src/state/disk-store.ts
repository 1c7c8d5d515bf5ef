import { createHash, type Hash, randomUUID } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Digest, InternalError, NotFoundError } from '@ghcr/oci-types';
import type { BlobCommitResult, BlobStore, BlobWriter } from './blob-store.js';

const METADATA_FILE = 'metadata.json';

function algorithmOf(digest: Digest): string {
  return digest.slice(0, digest.indexOf(':'));
}

/**
 * A {@link BlobStore} in a directory: `blobs/<algorithm>/<hex>` (content-addressed, written by
 * streaming to `tmp/` while hashing, then renamed into place), `metadata.json` (written to a temp
 * file and renamed). Survives restarts; never holds a blob whole in memory. Upload sessions in
 * progress do not survive a restart.
 * @public
 */
export function createDiskBlobStore(directory: string): BlobStore {
  const blobDirectory = join(directory, 'blobs');
  const tmpDirectory = join(directory, 'tmp');
  try {
    mkdirSync(blobDirectory, { recursive: true });
    rmSync(tmpDirectory, { recursive: true, force: true });
    mkdirSync(tmpDirectory, { recursive: true });
  } catch (error) {
    throw new ConfigError(
      `cannot use "${directory}" as the simulation's data directory; check that it is writable`,
      {
        cause: error,
        field: 'store.directory',
      },
    );
  }
  const sizes = new Map<Digest, number>();
  for (const algorithm of readdirSync(blobDirectory)) {
    for (const encoded of readdirSync(join(blobDirectory, algorithm))) {
      sizes.set(`${algorithm}:${encoded}` as Digest, statSync(join(blobDirectory, algorithm, encoded)).size);
    }
  }
  const pathOf = (digest: Digest): string =>
    join(blobDirectory, algorithmOf(digest), digest.slice(digest.indexOf(':') + 1));
  const install = async (temp: string, digest: Digest, size: number): Promise<void> => {
    if (sizes.has(digest)) {
      await rm(temp, { force: true });
      return;
    }
    mkdirSync(join(blobDirectory, algorithmOf(digest)), { recursive: true });
    await rename(temp, pathOf(digest));
    sizes.set(digest, size);
  };
  const hashFile = async (path: string, algorithm: string): Promise<Digest> => {
    const hash = createHash(algorithm);
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return `${algorithm}:${hash.digest('hex')}` as Digest;
  };

  return {
    kind: 'disk',
    sizeOf: (digest) => sizes.get(digest),
    createWriter(): BlobWriter {
      const temp = join(tmpDirectory, randomUUID());
      let handle: Promise<FileHandle> | undefined;
      let hash: Hash = createHash('sha256');
      let size = 0;
      let done = false;
      const file = (): Promise<FileHandle> => {
        handle ??= open(temp, 'w');
        return handle;
      };
      return {
        get size() {
          return size;
        },
        async write(chunk) {
          if (chunk.byteLength === 0) return;
          const fh = await file();
          let written = 0;
          while (written < chunk.byteLength) {
            const result = await fh.write(chunk, written, chunk.byteLength - written);
            written += result.bytesWritten;
          }
          hash.update(chunk);
          size += chunk.byteLength;
        },
        async commit(expected): Promise<BlobCommitResult> {
          const fh = await file();
          const algorithm = algorithmOf(expected);
          const actual =
            algorithm === 'sha256'
              ? (`sha256:${hash.copy().digest('hex')}` as Digest)
              : await hashFile(temp, algorithm);
          if (actual !== expected) return { ok: false, actual, size };
          await fh.close();
          done = true;
          await install(temp, actual, size);
          return { ok: true, digest: actual, size };
        },
        async abort() {
          if (done) return;
          done = true;
          if (handle !== undefined) await (await handle).close().catch(() => {});
          await rm(temp, { force: true });
          hash = createHash('sha256');
          size = 0;
        },
      };
    },
    async *read(digest, range) {
      if (!sizes.has(digest))
        throw new NotFoundError(`blob ${digest} is not in the store`, { resource: digest });
      const stream = createReadStream(
        pathOf(digest),
        range === undefined
          ? { highWaterMark: 256 * 1024 }
          : { start: range.start, end: range.end, highWaterMark: 256 * 1024 },
      );
      for await (const chunk of stream) yield chunk as Buffer;
    },
    async putBytes(bytes) {
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
      if (sizes.has(digest)) return digest;
      const temp = join(tmpDirectory, randomUUID());
      writeFileSync(temp, bytes);
      await install(temp, digest, bytes.byteLength);
      return digest;
    },
    async readBytes(digest) {
      if (!sizes.has(digest))
        throw new NotFoundError(`blob ${digest} is not in the store`, { resource: digest });
      return new Uint8Array(readFileSync(pathOf(digest)));
    },
    async delete(digest) {
      if (!sizes.delete(digest)) return;
      await rm(pathOf(digest), { force: true });
    },
    digests: () => [...sizes.keys()],
    loadMetadata() {
      const path = join(directory, METADATA_FILE);
      if (!existsSync(path)) return undefined;
      try {
        return JSON.parse(readFileSync(path, 'utf8')) as unknown;
      } catch (error) {
        throw new InternalError(
          `the simulation's metadata file ${path} is unreadable; move the data directory aside to start fresh`,
          {
            cause: error,
          },
        );
      }
    },
    saveMetadata(document) {
      const temp = join(tmpDirectory, `${METADATA_FILE}.${randomUUID()}`);
      writeFileSync(temp, JSON.stringify(document));
      renameSync(temp, join(directory, METADATA_FILE));
    },
    clear() {
      rmSync(blobDirectory, { recursive: true, force: true });
      rmSync(join(directory, METADATA_FILE), { force: true });
      mkdirSync(blobDirectory, { recursive: true });
      sizes.clear();
    },
  };
}
