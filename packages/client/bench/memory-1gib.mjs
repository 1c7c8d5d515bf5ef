#!/usr/bin/env node
// Peak memory of a 1 GiB single-layer image pushed from an OCI layout, pulled back to another
// layout, and copied between two registry processes, against the built package and Debian's
// docker-registry (started here on loopback ports with temporary storage). Each operation runs in
// its own child process, which reports its resident set before and its peak (getrusage maxRSS)
// after. Not a test: numbers depend on the machine. Build first (the client and the harness it
// starts the registries with: `npx turbo run build --filter=@ghcr/client... --filter=@ghcr/test-support...`),
// then:
//   node packages/client/bench/memory-1gib.mjs [MiB]      (default 1024)
// GHCR_CLIENT_DIST=<path to index.js> points it at another build; GHCR_BENCH_KEEP=1 keeps the files.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startDockerRegistry } from '@ghcr/test-support';

const MiB = 1024 * 1024;
const dist = process.env.GHCR_CLIENT_DIST
  ? pathToFileURL(process.env.GHCR_CLIENT_DIST).href
  : new URL('../dist/index.js', import.meta.url).href;

if (process.argv[2] === '--child') {
  await child(process.argv[3], JSON.parse(process.argv[4]));
} else {
  await main(Number(process.argv[2] ?? 1024));
}

/** One operation in this process; prints a JSON line with its numbers. */
async function child(operation, job) {
  const { createGhcrClient, copy, ociLayout, remoteRepository } = await import(dist);
  if (
    typeof copy !== 'function' ||
    typeof ociLayout !== 'function' ||
    typeof remoteRepository !== 'function'
  ) {
    throw new Error(
      `${dist} does not export copy, ociLayout and remoteRepository: rebuild after the images exports are wired`,
    );
  }
  const clients = [];
  const clientFor = (host) => {
    const client = createGhcrClient({ registry: host });
    clients.push(client);
    return client;
  };
  globalThis.gc?.();
  const before = process.memoryUsage.rss();
  let sampled = before;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 25);
  const start = performance.now();
  let result;
  if (operation === 'push') {
    result = await copy(
      ociLayout(job.source),
      'v1',
      remoteRepository(clientFor(job.registry), 'bench/big'),
      'v1',
    );
  } else if (operation === 'pull') {
    result = await copy(
      remoteRepository(clientFor(job.registry), 'bench/big'),
      'v1',
      ociLayout(job.destination),
      'v1',
    );
  } else if (operation === 'copy') {
    result = await copy(
      remoteRepository(clientFor(job.registry), 'bench/big'),
      'v1',
      remoteRepository(clientFor(job.other), 'bench/big'),
      'v1',
    );
  } else {
    throw new Error(`unknown operation ${operation}`);
  }
  const ms = performance.now() - start;
  clearInterval(sampler);
  for (const client of clients) await client.close();
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      operation,
      ms,
      bytes: result.bytesTransferred,
      rssBefore: before,
      rssPeak: Math.max(peak, sampled),
    }),
  );
}

async function main(sizeMiB) {
  const work = await mkdtemp(join(tmpdir(), 'ghcr-bench-1gib-'));
  const registries = [];
  try {
    const source = join(work, 'source-layout');
    process.stdout.write(`writing a ${sizeMiB} MiB single-layer OCI layout… `);
    await writeLayout(source, sizeMiB * MiB);
    console.log('done');
    for (const name of ['registry-a', 'registry-b']) {
      registries.push(await startDockerRegistry({ directory: join(work, name) }));
    }
    const [a, b] = registries;
    const job = { source, destination: join(work, 'pulled-layout'), registry: a.host, other: b.host };
    const rows = [];
    for (const operation of ['push', 'pull', 'copy']) {
      rows.push(await runChild(operation, job));
      const row = rows.at(-1);
      console.log(
        `${operation.padEnd(5)} ${(row.bytes / MiB).toFixed(0)} MiB in ${(row.ms / 1000).toFixed(1)} s ` +
          `(${(row.bytes / MiB / (row.ms / 1000)).toFixed(0)} MiB/s); RSS ${(row.rssBefore / MiB).toFixed(0)} MiB before, ` +
          `peak ${(row.rssPeak / MiB).toFixed(0)} MiB`,
      );
    }
  } finally {
    const keep = process.env.GHCR_BENCH_KEEP === '1';
    for (const registry of registries) await registry.stop({ keepStorage: keep });
    if (!keep) await rm(work, { recursive: true, force: true });
  }
}

function runChild(operation, job) {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--child', operation, JSON.stringify(job)],
      { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
    );
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
    });
    proc.on('exit', (code) => {
      if (code !== 0) reject(new Error(`${operation} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)));
    });
  });
}

/** An OCI layout with one layer of `size` random bytes (written in 1 MiB pieces, never held). */
async function writeLayout(dir, size) {
  await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
  const hash = createHash('sha256');
  const temp = join(dir, 'layer.tmp');
  async function* pieces() {
    for (let at = 0; at < size; at += MiB) {
      const piece = randomBytes(Math.min(MiB, size - at));
      hash.update(piece);
      yield piece;
    }
  }
  await pipeline(pieces(), createWriteStream(temp));
  const layer = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    digest: `sha256:${hash.digest('hex')}`,
    size,
  };
  await rename(temp, join(dir, 'blobs/sha256', layer.digest.slice(7)));
  const blob = async (bytes, mediaType) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(dir, 'blobs/sha256', digest.slice(7)), bytes);
    return { mediaType, digest, size: bytes.byteLength };
  };
  const config = await blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = await blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [layer],
      }),
    ),
    'application/vnd.oci.image.manifest.v1+json',
  );
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
    }),
  );
}
