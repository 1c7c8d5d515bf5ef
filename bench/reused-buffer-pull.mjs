#!/usr/bin/env node
// An experiment for issue 18, not part of `pnpm bench` and not how ghcr pulls: a pull into an OCI
// layout whose every response is read into ONE reused buffer per socket (net's `onread`) instead of
// undici's parser and Node's new 64 KiB buffer per read. Each read is hashed, then copied into one
// of two 2 MiB batch buffers that take turns being written (the socket waits while both are in
// use); the file is fdatasynced every 16 MiB and before its rename, and renamed only once its
// digest and size verified, as `ghcr pull` does. Plain HTTP, anonymous, one manifest (no index),
// 4 blobs at a time, no retries: what a blob reader below undici could reach, measured.
//   node bench/reused-buffer-pull.mjs <host:port>/<repository>:<tag> <dir>
// docs/benchmarks.md ("A blob reader on one reused buffer") has what it measured.
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';

const [reference, dir] = process.argv.slice(2);
const match = /^([^/]+)\/(.+):([\w][\w.-]*)$/.exec(reference ?? '');
if (match === null || dir === undefined) {
  console.error('usage: reused-buffer-pull.mjs <host:port>/<repository>:<tag> <dir>');
  process.exit(2);
}
const [, authority, repository, tag] = match;
const colon = authority.lastIndexOf(':');
const host = authority.slice(0, colon);
const port = Number(authority.slice(colon + 1));
const READ_BUFFER = 256 * 1024;
const BATCH = 2 * 1024 * 1024;
const SYNC_EVERY = 16 * 1024 * 1024;
const CONCURRENCY = 4;
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/**
 * One `Connection: close` GET. `onBody(view)` gets each piece of the body as a view of the reused
 * read buffer, valid only during the call; if it returns a promise, reading waits for it. Resolves
 * with the status once the server closed the connection.
 */
function get(path, accept, onBody) {
  return new Promise((resolve, reject) => {
    let head = '';
    let status = 0;
    const socket = net.connect({
      host,
      port,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback(length, buffer) {
          let view = buffer.subarray(0, length);
          if (status === 0) {
            const seen = head.length;
            head += view.toString('latin1');
            const end = head.indexOf('\r\n\r\n');
            if (end === -1) return true;
            status = Number(head.slice(9, 12));
            view = view.subarray(end + 4 - seen);
          }
          if (view.length === 0) return true;
          const wait = onBody(view);
          if (wait === undefined) return true;
          socket.pause();
          wait.then(
            () => socket.resume(),
            (error) => socket.destroy(error),
          );
          return true;
        },
      },
    });
    socket.on('connect', () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nAccept: ${accept}\r\nConnection: close\r\n\r\n`,
      ),
    );
    socket.on('error', reject);
    socket.on('close', (hadError) => {
      if (!hadError) resolve(status);
    });
  });
}

async function getManifest() {
  const pieces = [];
  const status = await get(`/v2/${repository}/manifests/${tag}`, MANIFEST, (view) => {
    pieces.push(Buffer.from(view));
  });
  if (status !== 200) throw new Error(`manifest ${tag}: HTTP ${status}`);
  return Buffer.concat(pieces);
}

async function pullBlob(descriptor) {
  const hex = descriptor.digest.slice('sha256:'.length);
  const temp = join(dir, `.tmp-${hex}`);
  const file = await open(temp, 'wx');
  try {
    const hash = createHash('sha256');
    const batches = [Buffer.allocUnsafe(BATCH), Buffer.allocUnsafe(BATCH)];
    let current = 0;
    let fill = 0;
    let position = 0;
    let writing = Promise.resolve();
    let unsynced = 0;
    let syncing;
    // Starts writing the current batch after the write before it; returns that earlier write (the
    // other batch's), which must finish before the other batch is filled again.
    const flush = () => {
      const buffer = batches[current];
      const length = fill;
      const at = position;
      position += length;
      current ^= 1;
      fill = 0;
      const before = writing;
      writing = before.then(async () => {
        let done = 0;
        while (done < length) {
          done += (await file.write(buffer, done, length - done, at + done)).bytesWritten;
        }
        unsynced += length;
        if (unsynced >= SYNC_EVERY && syncing === undefined) {
          unsynced = 0;
          syncing = file.datasync().then(() => {
            syncing = undefined;
          });
        }
      });
      return before;
    };
    const status = await get(`/v2/${repository}/blobs/${descriptor.digest}`, '*/*', (view) => {
      hash.update(view);
      const taken = Math.min(BATCH - fill, view.length);
      view.copy(batches[current], fill, 0, taken);
      fill += taken;
      if (fill < BATCH) return undefined;
      const before = flush();
      // The rest of this read is kept (a copy: the read buffer is reused) until the batch it goes
      // into is free again.
      const rest = taken < view.length ? Buffer.from(view.subarray(taken)) : undefined;
      return before.then(() => {
        if (rest !== undefined) {
          rest.copy(batches[current], 0);
          fill = rest.length;
        }
      });
    });
    if (fill > 0) flush();
    await writing;
    if (syncing !== undefined) await syncing;
    await file.datasync();
    const digest = `sha256:${hash.digest('hex')}`;
    if (status !== 200 || digest !== descriptor.digest || position !== descriptor.size) {
      throw new Error(
        `blob ${descriptor.digest}: HTTP ${status}, ${position} bytes hashing to ${digest} (expected ${descriptor.size})`,
      );
    }
  } catch (error) {
    await file.close();
    await rm(temp, { force: true });
    throw error;
  }
  await file.close();
  await rename(temp, join(dir, 'blobs/sha256', hex));
}

await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
const manifestBytes = await getManifest();
const manifest = JSON.parse(manifestBytes.toString('utf8'));
const manifestDigest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
const blobs = [manifest.config, ...manifest.layers];
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < blobs.length) await pullBlob(blobs[next++]);
  }),
);
await writeFile(join(dir, 'blobs/sha256', manifestDigest.slice('sha256:'.length)), manifestBytes);
await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
await writeFile(
  join(dir, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: manifest.mediaType ?? MANIFEST,
        digest: manifestDigest,
        size: manifestBytes.length,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  }),
);
