#!/usr/bin/env node
// `ghcr sync` against `skopeo sync` on Debian's docker-registry: 50 tags mirrored, 5 of them changed
// at the source since the last sync. Each recorded run: 5 source tags get new images, then each tool
// (order flipped run by run) brings its own mirror repository of the same target registry back in
// step; wall time from spawn to exit, requests each registry served during the run (access logs),
// and manifest GETs at the source (what Docker Hub's pull quota counts). After every run both
// mirrors are checked tag by tag against the source's digests.
//   node bench/sync.mjs [--tags 50] [--changed 5] [--runs 3] [--json FILE]
// Build first (`pnpm build`): it runs packages/cli/dist/bin.cjs and imports packages/client/dist.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { run } from './lib/process.mjs';
import { startRegistry, stopAllRegistries } from './lib/registry.mjs';
import { median } from './lib/stats.mjs';

const { values: flags } = parseArgs({
  options: {
    tags: { type: 'string', default: '50' },
    changed: { type: 'string', default: '5' },
    runs: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const TAGS = Number(flags.tags);
const CHANGED = Number(flags.changed);
const RUNS = Number(flags.runs);
const CLI = fileURLToPath(new URL('../packages/cli/dist/bin.cjs', import.meta.url));
const { createGhcrClient, memoryTarget } = await import(
  new URL('../packages/client/dist/index.js', import.meta.url).href
);
const { buildImageManifest, descriptorOf } = await import(
  new URL('../packages/manifest/dist/index.js', import.meta.url).href
);
const { digestOf, MediaType } = await import(
  new URL('../packages/oci-types/dist/index.js', import.meta.url).href
);

/** A small image of random bytes (two 64 KiB gzip layers and a config) in a memory target, tagged `v1`. */
async function randomImage() {
  const target = memoryTarget();
  const layers = [];
  for (const size of [64 * 1024, 64 * 1024]) {
    // A real gzip stream (stored blocks): skopeo recompresses what it sees as uncompressed.
    const bytes = gzipSync(randomBytes(size), { level: 0 });
    const descriptor = { mediaType: MediaType.OciLayerGzip, digest: digestOf(bytes), size: bytes.byteLength };
    await target.push(descriptor, bytes);
    layers.push(descriptor);
  }
  const config = Buffer.from(
    JSON.stringify({ os: 'linux', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const configDescriptor = {
    mediaType: MediaType.OciConfig,
    digest: digestOf(config),
    size: config.byteLength,
  };
  await target.push(configDescriptor, config);
  const manifest = buildImageManifest({ config: configDescriptor, layers });
  await target.push(descriptorOf(manifest), manifest.bytes);
  await target.tag(descriptorOf(manifest), 'v1');
  return { target, digest: manifest.digest };
}

const tags = Array.from({ length: TAGS }, (_, i) => `1.${i}.0`);
const work = await mkdtemp(join(tmpdir(), 'ghcr-bench-sync-'));
const results = { tags: TAGS, changed: CHANGED, runs: [] };
try {
  const [source, target] = await Promise.all([
    startRegistry(join(work, 'source')),
    startRegistry(join(work, 'target')),
  ]);
  const client = createGhcrClient({ registry: source.host });
  const digests = new Map();
  const publish = async (tag) => {
    const image = await randomImage();
    await client.images.push(`${source.host}/mirror/app:${tag}`, { target: image.target, reference: 'v1' });
    digests.set(tag, image.digest);
  };
  for (const tag of tags) await publish(tag);

  const config = join(work, 'mirrors.yml');
  await writeFile(
    config,
    `sync:\n  - source: ${source.host}/mirror/app\n    target: ${target.host}/ours/app\n    tags: { glob: ['1.*'] }\n`,
  );
  const tools = {
    ours: () => run(process.execPath, [CLI, '--quiet', 'sync', config], { measureRss: false }),
    // skopeo puts the repository's last component under the destination: target/skopeo/app.
    skopeo: () =>
      run(
        'skopeo',
        [
          '--insecure-policy',
          'sync',
          '--preserve-digests',
          '--src',
          'docker',
          '--dest',
          'docker',
          '--src-tls-verify=false',
          '--dest-tls-verify=false',
          `${source.host}/mirror/app`,
          `${target.host}/skopeo`,
        ],
        { measureRss: false },
      ),
  };
  const repositoryOf = { ours: 'ours/app', skopeo: 'skopeo/app' };
  const check = async (tool) => {
    const view = client.forRegistry(target.host);
    for (const tag of tags) {
      const head = await view.manifests.head(repositoryOf[tool], tag);
      if (head?.digest !== digests.get(tag)) {
        throw new Error(
          `${tool}: ${target.host}/${repositoryOf[tool]}:${tag} is ${head?.digest}, the source has ${digests.get(tag)}`,
        );
      }
    }
  };
  const timed = async (tool) => {
    const [sourceBefore, targetBefore] = [
      (await source.accessLog()).length,
      (await target.accessLog()).length,
    ];
    const outcome = await tools[tool]();
    const sourceEntries = (await source.accessLog()).slice(sourceBefore);
    const targetEntries = (await target.accessLog()).slice(targetBefore);
    await check(tool);
    return {
      ms: outcome.ms,
      sourceRequests: sourceEntries.length,
      sourceManifestGets: sourceEntries.filter((e) => e.method === 'GET' && e.path.includes('/manifests/'))
        .length,
      sourceBlobGets: sourceEntries.filter((e) => e.method === 'GET' && e.path.includes('/blobs/sha256:'))
        .length,
      targetRequests: targetEntries.length,
    };
  };
  // The first, full mirror of each: not recorded.
  await timed('ours');
  await timed('skopeo');
  for (let index = 0; index < RUNS; index += 1) {
    for (const tag of tags.slice(index * CHANGED, (index + 1) * CHANGED)) await publish(tag);
    const order = index % 2 === 0 ? ['ours', 'skopeo'] : ['skopeo', 'ours'];
    const runResult = {};
    for (const tool of order) runResult[tool] = await timed(tool);
    results.runs.push(runResult);
    console.log(`run ${index + 1}: ${JSON.stringify(runResult)}`);
  }
  const summary = (tool, key) => median(results.runs.map((r) => r[tool][key]));
  results.summary = Object.fromEntries(
    ['ours', 'skopeo'].map((tool) => [
      tool,
      Object.fromEntries(
        ['ms', 'sourceRequests', 'sourceManifestGets', 'sourceBlobGets', 'targetRequests'].map((key) => [
          key,
          summary(tool, key),
        ]),
      ),
    ]),
  );
  const row = (tool) => {
    const s = results.summary[tool];
    return `| ${tool === 'ours' ? '`ghcr sync`' : '`skopeo sync`'} | ${Math.round(s.ms)} ms | ${s.sourceRequests} | ${s.sourceManifestGets} | ${s.sourceBlobGets} | ${s.targetRequests} |`;
  };
  console.log(`\nsync ${TAGS} tags, ${CHANGED} changed (median of ${RUNS} runs)\n`);
  console.log(
    '| tool | wall time | source requests | source manifest GETs | source blob GETs | target requests |',
  );
  console.log('|---|---|---|---|---|---|');
  console.log(row('ours'));
  console.log(row('skopeo'));
  if (flags.json !== undefined) await writeFile(flags.json, `${JSON.stringify(results, null, 2)}\n`);
  await client.close();
} finally {
  await stopAllRegistries();
  await rm(work, { recursive: true, force: true });
}
