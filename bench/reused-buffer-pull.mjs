#!/usr/bin/env node
// An experiment for issue 18, not part of `pnpm bench` and not how ghcr pulls: a pull into an OCI
// layout whose every response is read into ONE reused buffer per socket (net's `onread`) instead of
// undici's parser and Node's new 64 KiB buffer per read. Each read is hashed, then copied into one
// of two 2 MiB batch buffers that take turns being written (the socket waits while both are in
// use); the file is fdatasynced every 16 MiB and before its rename, and renamed only once its
// digest and size verified, as `ghcr pull` does. Plain HTTP, anonymous, one manifest (no index),
// 4 blobs at a time, no retries: what a blob reader below undici could reach, measured.
//   node bench/reused-buffer-pull.mjs <host:port>/<repository>:<tag> <dir> [--hash-workers N]
// With --hash-workers N (N ≥ 1), the main thread does not hash: each full batch (in shared
// memory) goes to one of N worker threads, a blob's batches always to the same one, in order, and
// the batch is refilled only once both its write and its hash are done.
// docs/benchmarks.md ("An experiment: a pull on one reused buffer per socket") has what it measured.
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { responseHead } from './lib/raw-response.mjs';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'hash-workers': { type: 'string', default: '0' } },
});
const [reference, dir] = positionals;
const hashWorkers = Number(flags['hash-workers']);
const match = /^([^/]+)\/(.+):([\w][\w.-]*)$/.exec(reference ?? '');
if (match === null || dir === undefined || !Number.isInteger(hashWorkers) || hashWorkers < 0) {
  console.error('usage: reused-buffer-pull.mjs <host:port>/<repository>:<tag> <dir> [--hash-workers N]');
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
    const head = responseHead();
    /** What the last onBody call that returned a promise is waiting for. */
    let waiting = Promise.resolve();
    const socket = net.connect({
      host,
      port,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BUFFER),
        callback(length, buffer) {
          const view = head.take(buffer.subarray(0, length));
          if (view === undefined || view.length === 0) return true;
          const wait = onBody(view);
          if (wait === undefined) return true;
          waiting = wait;
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
    // The last read's piece may still wait for its batch when the server closes: the response
    // ends only after it.
    socket.on('close', (hadError) => {
      if (!hadError) waiting.then(() => resolve(head.status), reject);
    });
  });
}

/** The code of a hashing worker: one sha256 per blob id, updated from shared batches in order. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'start') hashes.set(message.id, createHash('sha256'));
  else if (message.type === 'update') {
    hashes.get(message.id).update(new Uint8Array(message.memory, 0, message.length));
    parentPort.postMessage({ id: message.id, type: 'hashed' });
  } else if (message.type === 'finish') {
    parentPort.postMessage({ id: message.id, type: 'digest', hex: hashes.get(message.id).digest('hex') });
    hashes.delete(message.id);
  }
});
`;

/** N hashing workers; `hasherFor(id)` hashes one blob's batches on one of them. */
function hashingWorkers(count) {
  const pending = new Map();
  const workers = Array.from({ length: count }, () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (message) => pending.get(message.id).shift()(message));
    return worker;
  });
  return {
    hasherFor(id) {
      const worker = workers[id % count];
      const queue = [];
      pending.set(id, queue);
      const reply = () => new Promise((resolve) => queue.push(resolve));
      worker.postMessage({ type: 'start', id });
      return {
        update() {},
        batch(buffer, length) {
          worker.postMessage({ type: 'update', id, memory: buffer.buffer, length });
          return reply();
        },
        async digest() {
          worker.postMessage({ type: 'finish', id });
          const { hex } = await reply();
          pending.delete(id);
          return hex;
        },
      };
    },
    close: () => Promise.all(workers.map((worker) => worker.terminate())),
  };
}

/** Hashing on the main thread, each read as it arrives. */
function mainThreadHasher() {
  const hash = createHash('sha256');
  return {
    update: (view) => hash.update(view),
    batch: () => undefined,
    digest: async () => hash.digest('hex'),
  };
}

const workers = hashWorkers > 0 ? hashingWorkers(hashWorkers) : undefined;
/** A batch buffer: in shared memory when workers hash it. */
const batchBuffer = () =>
  workers === undefined ? Buffer.allocUnsafe(BATCH) : Buffer.from(new SharedArrayBuffer(BATCH));

async function getManifest() {
  const pieces = [];
  const status = await get(`/v2/${repository}/manifests/${tag}`, MANIFEST, (view) => {
    pieces.push(Buffer.from(view));
  });
  if (status !== 200) throw new Error(`manifest ${tag}: HTTP ${status}`);
  return Buffer.concat(pieces);
}

async function pullBlob(descriptor, id, batches) {
  const hex = descriptor.digest.slice('sha256:'.length);
  const temp = join(dir, `.tmp-${hex}`);
  const file = await open(temp, 'wx');
  try {
    const hasher = workers === undefined ? mainThreadHasher() : workers.hasherFor(id);
    // When each batch may be filled again: its write (and its hash, on a worker) done.
    const free = [Promise.resolve(), Promise.resolve()];
    let current = 0;
    let fill = 0;
    let position = 0;
    let writing = Promise.resolve();
    let unsynced = 0;
    let syncing;
    // Starts writing (and hashing) the current batch, the write after the one before it; returns
    // when the other batch, the one filled next, is free.
    const flush = () => {
      const index = current;
      const buffer = batches[index];
      const length = fill;
      const at = position;
      position += length;
      current ^= 1;
      fill = 0;
      const hashed = hasher.batch(buffer, length);
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
      free[index] = hashed === undefined ? writing : Promise.all([writing, hashed]);
      return free[current];
    };
    const status = await get(`/v2/${repository}/blobs/${descriptor.digest}`, '*/*', (view) => {
      hasher.update(view);
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
    await Promise.all(free);
    if (syncing !== undefined) await syncing;
    await file.datasync();
    const digest = `sha256:${await hasher.digest()}`;
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
try {
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      // Each of the 4 blobs in flight has its two batch buffers, kept for the next blob it takes.
      const batches = [batchBuffer(), batchBuffer()];
      while (next < blobs.length) {
        const id = next++;
        await pullBlob(blobs[id], id, batches);
      }
    }),
  );
} finally {
  await workers?.close();
}
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
