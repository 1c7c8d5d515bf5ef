// The archive scenarios (issue 15): push from a docker-archive and from an oci-archive, pull to
// each, ours (`ghcr push REF docker-archive:FILE`, `ghcr pull REF FILE --format …`) against
// `skopeo copy docker-archive:` / `oci-archive:`; the docker-archive push once more through a
// narrow uplink (`uplink.mjs`), where compressing and uploading can overlap; then the peak RSS of
// ours as the archive grows.
// The archives are written once by skopeo from a seeded registry: its docker-archive holds the
// layer uncompressed (skopeo's writer decompresses), its oci-archive keeps the gzip stream. Both
// tools gzip the uncompressed layer when they push a docker-archive (ours twice: once to learn
// the digest, once as it uploads; see the client README), so that row times compression.
// Each push gets a fresh registry process; each pull a new file. Ours and skopeo alternate run
// for run; the first `warmup` runs are not recorded.
import { rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { run, sync } from './process.mjs';
import { startRegistry } from './registry.mjs';
import { median } from './stats.mjs';
import { seed } from './transfers.mjs';
import { startUplink } from './uplink.mjs';

const CLI = fileURLToPath(new URL('../../packages/cli/dist/bin.cjs', import.meta.url));
const REPO = 'bench/app';
const TAG = 'v1';

const skopeo = (...args) => ['skopeo', ['copy', '--quiet', ...args]];
const ours = (...args) => [process.execPath, [CLI, '--quiet', ...args]];

async function hasManifest(host) {
  const response = await fetch(`http://${host}/v2/${REPO}/manifests/${TAG}`, {
    method: 'HEAD',
    headers: {
      accept:
        'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  return response.status === 200 ? response.headers.get('docker-content-digest') : undefined;
}

/** Writes the two archives of `image` (seeded into a registry) with skopeo. */
async function writeArchives(image, work) {
  const registry = await startRegistry(`${work}/archives-seed`);
  try {
    await seed(registry, image);
    const docker = `${work}/image.docker.tar`;
    const oci = `${work}/image.oci.tar`;
    const ref = `docker://${registry.host}/${REPO}:${TAG}`;
    await run(...skopeo('--src-tls-verify=false', ref, `docker-archive:${docker}:${REPO}:${TAG}`), {
      measureRss: false,
    });
    await run(...skopeo('--src-tls-verify=false', ref, `oci-archive:${oci}:${TAG}`), { measureRss: false });
    return { docker, oci };
  } finally {
    await registry.stop();
  }
}

/** The uplink of the pushes that cross one (MiB/s): a registry across a network, not loopback. */
export const UPLINK_MIB_PER_SECOND = 40;

function scenarios(image, archives, work, { uplink }) {
  const pushScenario = (format, file, skopeoSource, uplink = false) => ({
    name: `push-${format}${uplink ? '-uplink' : ''}`,
    title: `push from a ${format}${uplink ? `, through a ${UPLINK_MIB_PER_SECOND} MiB/s uplink` : ''}`,
    async prepare(tool, index) {
      const registry = await startRegistry(
        `${work}/push-${format}${uplink ? '-uplink' : ''}-${tool}-${index}`,
      );
      return { registry, link: uplink ? await startUplink(registry.host, UPLINK_MIB_PER_SECOND) : undefined };
    },
    command(tool, { registry, link }) {
      const ref = `${(link ?? registry).host}/${REPO}:${TAG}`;
      return tool === 'ours'
        ? ours('push', ref, `${format}:${file}`)
        : skopeo('--dest-tls-verify=false', skopeoSource, `docker://${ref}`);
    },
    async finish(tool, { registry, link }) {
      await link?.stop();
      const digest = await hasManifest(registry.host);
      if (digest === undefined) throw new Error(`${tool}: nothing at ${registry.host}/${REPO}:${TAG}`);
      if (format === 'oci-archive' && digest !== image.manifest.digest) {
        throw new Error(`${tool}: pushed ${digest}, expected ${image.manifest.digest}`);
      }
      await registry.stop();
    },
  });
  const pullScenario = (format, source) => ({
    name: `pull-${format}`,
    title: `pull to a ${format}`,
    async prepare(tool, index) {
      const file = `${work}/pull-${format}-${tool}-${index}.tar`;
      await rm(file, { force: true });
      return { file };
    },
    command(tool, { file }) {
      const ref = `${source().host}/${REPO}:${TAG}`;
      if (tool === 'ours') return ours('pull', ref, file, '--format', format);
      const destination =
        format === 'docker-archive' ? `docker-archive:${file}:${REPO}:${TAG}` : `oci-archive:${file}:${TAG}`;
      return skopeo('--src-tls-verify=false', `docker://${ref}`, destination);
    },
    async finish(tool, { file }) {
      // skopeo's docker-archive holds the layer decompressed: a little smaller than the stored
      // gzip stream (5 bytes per 64 KiB block), so allow 1 %.
      const size = (await stat(file)).size;
      if (size < image.totalBytes * 0.99) {
        throw new Error(`${tool}: ${file} has ${size} bytes, less than the image`);
      }
      await rm(file, { force: true });
    },
  });
  return [
    pushScenario('docker-archive', archives.docker, `docker-archive:${archives.docker}`),
    ...(uplink
      ? [pushScenario('docker-archive', archives.docker, `docker-archive:${archives.docker}`, true)]
      : []),
    pushScenario('oci-archive', archives.oci, `oci-archive:${archives.oci}:${TAG}`),
    pullScenario('docker-archive', () => archives.source),
    pullScenario('oci-archive', () => archives.source),
  ];
}

async function timeScenario(scenario, { runs, warmup, log }) {
  const tools = { ours: { ms: [], rss: [] }, skopeo: { ms: [], rss: [] } };
  for (let index = 0; index < warmup + runs; index++) {
    const order = index % 2 === 0 ? ['ours', 'skopeo'] : ['skopeo', 'ours'];
    const line = [];
    for (const tool of order) {
      const context = await scenario.prepare(tool, index);
      await sync();
      const [command, args] = scenario.command(tool, context);
      const result = await run(command, args);
      await scenario.finish(tool, context);
      if (index >= warmup) {
        tools[tool].ms.push(result.ms);
        tools[tool].rss.push(result.maxRssBytes);
      }
      line.push(
        `${tool} ${(result.ms / 1000).toFixed(2)} s, ${((result.maxRssBytes ?? 0) / 2 ** 20).toFixed(0)} MiB`,
      );
    }
    log(`    ${index < warmup ? 'warm-up' : `run ${index - warmup + 1}`}: ${line.join('; ')}`);
  }
  const pairs = tools.ours.ms.map((ms, i) => ms / (tools.skopeo.ms[i] ?? Number.NaN));
  return {
    name: scenario.name,
    title: scenario.title,
    oursMs: median(tools.ours.ms),
    skopeoMs: median(tools.skopeo.ms),
    ratio: median(pairs),
    oursRss: Math.max(...tools.ours.rss.filter(Number.isFinite)),
    skopeoRss: Math.max(...tools.skopeo.rss.filter(Number.isFinite)),
  };
}

/**
 * Times the archive scenarios for `image` (an OCI layout from writeRandomImage): the four, and
 * unless `uplink` is false the docker-archive push through the uplink; returns
 * `[{ name, title, oursMs, skopeoMs, ratio, oursRss, skopeoRss }]`.
 */
export async function runArchives(image, { work, runs, warmup, log, uplink = true }) {
  const archives = await writeArchives(image, work);
  const source = await startRegistry(`${work}/archives-source`);
  archives.source = source;
  try {
    await seed(source, image);
    const rows = [];
    for (const scenario of scenarios(image, archives, work, { uplink })) {
      log(`  ${scenario.title}`);
      rows.push(await timeScenario(scenario, { runs, warmup, log }));
    }
    return rows;
  } finally {
    await source.stop();
    await rm(archives.docker, { force: true });
    await rm(archives.oci, { force: true });
  }
}

/**
 * Peak RSS of ours pushing from and pulling to a docker-archive, for each image (single layers
 * of growing size): flat means the archive is streamed, not held.
 */
export async function runArchiveMemory(images, { work, log }) {
  const rows = [];
  for (const image of images) {
    const dir = `${work}/memory-${image.totalBytes}`;
    const row = await runArchives(image, { work: dir, runs: 1, warmup: 0, log: () => {}, uplink: false });
    const pick = (name) => row.find((entry) => entry.name === name);
    const entry = {
      bytes: image.totalBytes,
      push: pick('push-docker-archive').oursRss,
      pull: pick('pull-docker-archive').oursRss,
      pushOci: pick('push-oci-archive').oursRss,
      pullOci: pick('pull-oci-archive').oursRss,
    };
    log(
      `  ${(image.totalBytes / 2 ** 20).toFixed(0)} MiB layer: push docker-archive ${(entry.push / 2 ** 20).toFixed(0)} MiB, pull ${(entry.pull / 2 ** 20).toFixed(0)} MiB, push oci-archive ${(entry.pushOci / 2 ** 20).toFixed(0)} MiB, pull ${(entry.pullOci / 2 ** 20).toFixed(0)} MiB peak RSS`,
    );
    rows.push(entry);
  }
  return rows;
}

/** The markdown section of the archive rows. */
export function renderArchives(archives) {
  if (archives === undefined) return '';
  const seconds = (ms) => (ms / 1000).toFixed(2);
  const mib = (bytes) => (Number.isFinite(bytes) ? (bytes / 2 ** 20).toFixed(0) : '–');
  const lines = ['', `### Archives (${archives.image})`, ''];
  lines.push(
    '| scenario | ours (s) | skopeo (s) | ours ÷ skopeo | ours peak RSS (MiB) | skopeo peak RSS (MiB) |',
  );
  lines.push('|---|---|---|---|---|---|');
  for (const row of archives.rows) {
    lines.push(
      `| ${row.title} | ${seconds(row.oursMs)} | ${seconds(row.skopeoMs)} | ${row.ratio.toFixed(2)}× | ${mib(row.oursRss)} | ${mib(row.skopeoRss)} |`,
    );
  }
  if (archives.memory !== undefined) {
    lines.push('', 'Peak RSS of ours as the archive grows (one layer):', '');
    lines.push(
      '| layer (MiB) | push docker-archive | pull docker-archive | push oci-archive | pull oci-archive |',
    );
    lines.push('|---|---|---|---|---|');
    for (const row of archives.memory) {
      lines.push(
        `| ${mib(row.bytes)} | ${mib(row.push)} | ${mib(row.pull)} | ${mib(row.pushOci)} | ${mib(row.pullOci)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
