#!/usr/bin/env node
// A DIAGNOSTIC, not the machine's limit (that is lib/limits.mjs: curl, openssl, dd): the same bytes
// moved by the least a Node client can do with undici, against the same registry, so what it
// shows is Node's own overhead. No retries, no resumption, no progress, no checks beyond sha256 of
// what is downloaded. `node bench/run.mjs` runs it in the full run (`--no-ceiling` leaves it out).
//   node bench/ceiling.mjs push <layout-dir> <tag> <host> <repo>          monolithic POST + PUT per blob (streamed from the file), then the manifest
//   node bench/ceiling.mjs pull <host> <repo> <tag> <dir>                 GET + sha256 per blob into an OCI layout (fdatasync, rename)
//   node bench/ceiling.mjs copy <host> <repo> <tag> <host> <repo>         another registry: GET + sha256 piped into POST + PUT; the same registry: mount
//   node bench/ceiling.mjs noop                                           start-up only (undici imported)
// Blobs go GHCR_BENCH_CEILING_CONCURRENCY at a time (default 4, what ghcr uses). Prints one JSON line.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setting } from './lib/env.mjs';
import { applyCliV8Flags } from './lib/v8-flags.mjs';

// The `ghcr` executable's V8 settings (packages/cli/src/bin.ts). One of them keeps undici's
// WebAssembly HTTP parser baseline-compiled, so the process does not wait ~0.19 s at exit for V8's
// background optimising compile of it; without it the ceiling would be that much slower on short
// operations.
applyCliV8Flags();

// undici is a dependency of the client package (not hoisted to the root).
const requireFromClient = createRequire(new URL('../packages/client/package.json', import.meta.url));
const { Agent, request } = requireFromClient('undici');

const concurrency = Number(setting('GHCR_BENCH_CEILING_CONCURRENCY') ?? 4);
// Experiment knob (the harness never sets it): HEAD each blob before uploading it, as a client
// that skips blobs the repository has must (ours once, skopeo twice).
const headFirst = setting('GHCR_BENCH_CEILING_HEAD') === '1';
const dispatcher = new Agent({ connections: 16 });
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ACCEPT = [OCI_MANIFEST, 'application/vnd.oci.image.index.v1+json'].join(', ');

async function each(items, work) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

async function expect(response, status, what) {
  if (response.statusCode !== status) {
    const text = await response.body.text();
    throw new Error(`${what}: ${response.statusCode} ${text.slice(0, 200)}`);
  }
}

/** POST an upload session, then PUT the whole body with the digest. */
async function upload(host, repo, descriptor, body) {
  if (headFirst) {
    const head = await request(`http://${host}/v2/${repo}/blobs/${descriptor.digest}`, {
      method: 'HEAD',
      dispatcher,
    });
    await head.body.dump();
    if (head.statusCode === 200) {
      body.destroy?.();
      return;
    }
  }
  const started = await request(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST', dispatcher });
  await expect(started, 202, `POST upload ${descriptor.digest}`);
  await started.body.dump();
  const location = new URL(started.headers.location, `http://${host}`);
  location.searchParams.set('digest', descriptor.digest);
  const put = await request(location, {
    method: 'PUT',
    dispatcher,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
    body,
  });
  await expect(put, 201, `PUT upload ${descriptor.digest}`);
  await put.body.dump();
}

async function putManifest(host, repo, tag, bytes, mediaType) {
  const put = await request(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    dispatcher,
    headers: { 'content-type': mediaType },
    body: bytes,
  });
  await expect(put, 201, 'PUT manifest');
  await put.body.dump();
}

async function getManifest(host, repo, tag) {
  const response = await request(`http://${host}/v2/${repo}/manifests/${tag}`, {
    dispatcher,
    headers: { accept: ACCEPT },
  });
  await expect(response, 200, 'GET manifest');
  const bytes = Buffer.from(await response.body.arrayBuffer());
  return { bytes, mediaType: response.headers['content-type'], manifest: JSON.parse(bytes.toString('utf8')) };
}

/** A blob's response body, hashed on the way; `check()` throws when the digest differs. */
async function getBlob(host, repo, descriptor) {
  const response = await request(`http://${host}/v2/${repo}/blobs/${descriptor.digest}`, {
    dispatcher,
    maxRedirections: 0,
  });
  await expect(response, 200, `GET blob ${descriptor.digest}`);
  const hash = createHash('sha256');
  async function* hashed() {
    for await (const chunk of response.body) {
      hash.update(chunk);
      yield chunk;
    }
  }
  return {
    body: hashed(),
    check() {
      const digest = `sha256:${hash.digest('hex')}`;
      if (digest !== descriptor.digest) throw new Error(`blob ${descriptor.digest} arrived as ${digest}`);
    },
  };
}

const blobsOf = (manifest) => [manifest.config, ...manifest.layers];
const start = performance.now();
const [operation, ...args] = process.argv.slice(2);
let bytes = 0;

if (operation === 'push') {
  const [dir, tag, host, repo] = args;
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  const manifestBytes = await readFile(join(dir, 'blobs/sha256', entry.digest.slice(7)));
  const manifest = JSON.parse(manifestBytes.toString('utf8'));
  await each(blobsOf(manifest), async (descriptor) => {
    await upload(
      host,
      repo,
      descriptor,
      createReadStream(join(dir, 'blobs/sha256', descriptor.digest.slice(7)), { highWaterMark: 1 << 20 }),
    );
    bytes += descriptor.size;
  });
  await putManifest(host, repo, tag, manifestBytes, entry.mediaType);
  bytes += manifestBytes.byteLength;
} else if (operation === 'pull') {
  const [host, repo, tag, dir] = args;
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const { bytes: manifestBytes, mediaType, manifest } = await getManifest(host, repo, tag);
  await each(blobsOf(manifest), async (descriptor) => {
    const blob = await getBlob(host, repo, descriptor);
    const path = join(dir, 'blobs/sha256', descriptor.digest.slice(7));
    // A 2 MiB write buffer, as ghcr's layout target uses: with the default 16 KiB, every socket
    // read waits for the previous write, and pulls took 10-25 % longer.
    await pipeline(blob.body, createWriteStream(`${path}.part`, { highWaterMark: 2 << 20 }));
    blob.check();
    // Durable before it is named, as ghcr's layout target and skopeo do (fdatasync, then rename).
    const handle = await open(`${path}.part`, 'r+');
    await handle.datasync();
    await handle.close();
    await rename(`${path}.part`, path);
    bytes += descriptor.size;
  });
  const digest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
  await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), manifestBytes);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType,
          digest,
          size: manifestBytes.byteLength,
          annotations: { 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  bytes += manifestBytes.byteLength;
} else if (operation === 'copy') {
  const [fromHost, fromRepo, tag, toHost, toRepo] = args;
  const { bytes: manifestBytes, mediaType, manifest } = await getManifest(fromHost, fromRepo, tag);
  await each(blobsOf(manifest), async (descriptor) => {
    if (fromHost === toHost) {
      const mounted = await request(
        `http://${toHost}/v2/${toRepo}/blobs/uploads/?mount=${descriptor.digest}&from=${fromRepo}`,
        { method: 'POST', dispatcher },
      );
      await expect(mounted, 201, `mount ${descriptor.digest}`);
      await mounted.body.dump();
      return;
    }
    const blob = await getBlob(fromHost, fromRepo, descriptor);
    await upload(toHost, toRepo, descriptor, blob.body);
    blob.check();
    bytes += descriptor.size;
  });
  await putManifest(toHost, toRepo, tag, manifestBytes, mediaType);
  bytes += manifestBytes.byteLength;
} else if (operation !== 'noop') {
  console.error('usage: ceiling.mjs push|pull|copy|noop …');
  process.exit(2);
}
await dispatcher.close();
console.log(
  JSON.stringify({
    operation,
    ms: performance.now() - start,
    bytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
