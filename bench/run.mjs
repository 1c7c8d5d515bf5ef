#!/usr/bin/env node
// `pnpm bench` / `pnpm bench:quick`: ours against skopeo on Debian's docker-registry and against
// the machine's limit (curl, openssl, dd), peak memory, and the library microbenchmarks; results
// into docs/benchmarks.md.
//   node bench/run.mjs [--quick] [--runs N] [--warmup N] [--images 1x256,8x32,64x1] [--ceiling | --no-ceiling]
//                      [--only startup,transfers,memory,archives,micro] [--scenarios push,pull,copy-same,copy-cross,tags,inspect]
//                      [--memory-mib N] [--archive-mib N] [--out FILE | --no-write] [--json FILE] [--keep]
// Full: 5 recorded runs after 1 warm-up, images 1×256, 8×32, 64×1 MiB, a 1 GiB layer for memory,
// writes docs/benchmarks.md. Quick: 1 run after 1 warm-up, images 1×8 and 4×1 MiB, a 64 MiB layer,
// no ceiling script (a diagnostic; --ceiling runs it), writes nothing unless --out is given. Without docker-registry or skopeo the transfer and memory
// parts are skipped with a message (an error under CI=true, so CI cannot skip them silently).
// Build first (`pnpm build`; the package scripts do it). GHCR_BENCH_IMPL=cli|lib picks how ours runs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderArchives, runArchiveMemory, runArchives } from './lib/archives.mjs';
import { setting } from './lib/env.mjs';
import { writeRandomImage } from './lib/layout.mjs';
import { describeMachine, describeVersions } from './lib/machine.mjs';
import { chooseImplementation } from './lib/ours.mjs';
import { GNU_TIME, hasCommand, run } from './lib/process.mjs';
import { stopAllRegistries } from './lib/registry.mjs';
import { mergeReport, renderReport, summarize } from './lib/report.mjs';
import { runStartup } from './lib/startup.mjs';
import { MiB, mibPerSecond } from './lib/stats.mjs';
import { runMemory, runTransfers } from './lib/transfers.mjs';

const ROOT = new URL('../', import.meta.url);
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    images: { type: 'string' },
    only: { type: 'string' },
    scenarios: { type: 'string' },
    'memory-mib': { type: 'string' },
    'archive-mib': { type: 'string' },
    out: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    ceiling: { type: 'boolean' },
    'no-ceiling': { type: 'boolean' },
  },
});
const quick = flags.quick;
const options = {
  quick,
  runs: Number(flags.runs ?? (quick ? 1 : 5)),
  warmup: Number(flags.warmup ?? 1),
  images: (flags.images ?? (quick ? '1x8,4x1' : '1x256,8x32,64x1')).split(','),
  parts: (flags.only ?? 'startup,transfers,memory,archives,micro').split(','),
  scenarios: flags.scenarios?.split(','),
  // bench/ceiling.mjs, a Node script doing the same work: a diagnostic of Node's overhead.
  ceiling: flags['no-ceiling'] ? false : (flags.ceiling ?? !quick),
  memoryMiB: Number(flags['memory-mib'] ?? (quick ? 64 : 1024)),
  archiveMiB: Number(flags['archive-mib'] ?? (quick ? 8 : 256)),
  out: flags['no-write']
    ? undefined
    : (flags.out ?? (quick ? undefined : fileURLToPath(new URL('docs/benchmarks.md', ROOT)))),
  command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
};
for (const image of options.images) {
  if (!/^\d+x\d+$/.test(image)) throw new Error(`--images: "${image}" is not LAYERSxMIB (e.g. 8x32)`);
}

const log = (line) => console.log(line);
const started = Date.now();
const results = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  options,
  machine: await describeMachine(),
  versions: await describeVersions(ROOT),
  skipped: [],
  transfers: [],
};
log(
  `ghcr bench (${quick ? 'quick' : 'full'}): ${results.machine.cpu}, ${results.machine.nproc} cores, load ${results.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
);

const missing = [];
for (const tool of ['docker-registry', 'skopeo']) if (!(await hasCommand(tool))) missing.push(tool);
const wantsRegistry =
  options.parts.includes('transfers') ||
  options.parts.includes('memory') ||
  options.parts.includes('archives');
if (missing.length > 0 && wantsRegistry) {
  const message = `transfers and memory need ${missing.join(' and ')}: apt-get update && apt-get install -y docker-registry skopeo`;
  if (setting('CI') === 'true') {
    console.error(`bench: ${message} (CI=true: failing instead of skipping)`);
    process.exit(1);
  }
  console.warn(`bench: skipping transfers and memory: ${message}`);
  results.skipped.push(message);
}
const registryParts = missing.length === 0;
results.implementation = await chooseImplementation();
for (const note of results.implementation.notes) log(`note: ${note}`);
if (GNU_TIME === undefined)
  results.skipped.push(
    'GNU time absent: peak RSS of ours from getrusage inside the process; skopeo RSS not measured',
  );

const work = await mkdtemp(join(tmpdir(), 'ghcr-bench-'));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    console.error(`bench: ${signal}: stopping the registries`);
    await stopAllRegistries();
    await rm(work, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  if (options.parts.includes('startup') && registryParts) {
    log('process start-up…');
    results.startup = await runStartup({ runs: quick ? 3 : 9, implementation: results.implementation, work });
    for (const row of results.startup.rows)
      log(`  ${row.name}: ${row.ms.toFixed(0)} ms (CPU ${row.cpuMs.toFixed(0)} ms)`);
  }
  if (registryParts && options.parts.includes('transfers')) {
    for (const spec of options.images) {
      const [layers, layerMiB] = spec.split('x').map(Number);
      const label = `${layers}×${layerMiB} MiB`;
      log(`image ${label}: writing the OCI layout…`);
      const image = {
        ...(await writeRandomImage(join(work, `image-${spec}`), { layers, layerBytes: layerMiB * MiB })),
        label,
      };
      const scenarios = await runTransfers(image, {
        work: join(work, `runs-${spec}`),
        runs: options.runs,
        warmup: options.warmup,
        implementation: results.implementation,
        only: options.scenarios,
        ceiling: options.ceiling,
        // tags and inspect move no blobs, so the image's size does not matter: the first one only.
        metadata: spec === options.images[0],
        log,
      });
      const summaries = scenarios.map((scenario) => summarize(image, scenario));
      for (const s of summaries) {
        const limit = Number.isFinite(s.limit)
          ? `, ${(s.oursOfLimit * 100).toFixed(0)}% of the limit (${(s.limit / 1000).toFixed(2)} s)`
          : '';
        const ceiling = Number.isFinite(s.ceiling)
          ? `, ceiling script ${(s.ceiling / 1000).toFixed(2)} s`
          : '';
        log(
          `  ${s.name.padEnd(10)} ours ${(s.ours / 1000).toFixed(2)} s (${mibPerSecond(s.bytes, s.ours).toFixed(0)} MiB/s), skopeo ${(s.skopeo / 1000).toFixed(2)} s, ` +
            `ratio ${s.ratio.toFixed(2)}×${limit}${ceiling}${s.noisy ? ', noisy' : ''}`,
        );
      }
      results.transfers.push({
        image: { label, layers: image.layers, totalBytes: image.totalBytes },
        summaries,
      });
      await rm(image.dir, { recursive: true, force: true });
    }
  }
  if (registryParts && options.parts.includes('memory')) {
    log(`memory: writing a ${options.memoryMiB} MiB single-layer layout…`);
    const image = await writeRandomImage(join(work, 'image-memory'), {
      layers: 1,
      layerBytes: options.memoryMiB * MiB,
    });
    const { rows, floors } = await runMemory(image, {
      work: join(work, 'memory'),
      implementation: results.implementation,
      log,
    });
    results.memory = {
      image: { layers: image.layers, totalBytes: image.totalBytes },
      rows,
      floors,
      source:
        GNU_TIME === undefined
          ? 'getrusage maxRSS reported by the process'
          : '`/usr/bin/time -v`, maximum resident set size',
    };
    await rm(image.dir, { recursive: true, force: true });
  }
  if (registryParts && options.parts.includes('archives')) {
    // Archives: 1×archiveMiB pushed and pulled by each tool, then ours' peak RSS at a quarter of
    // the memory layer and at the memory layer (flat = streamed).
    log(`archives: 1×${options.archiveMiB} MiB`);
    const image = await writeRandomImage(join(work, 'image-archives'), {
      layers: 1,
      layerBytes: options.archiveMiB * MiB,
      realDiffIds: true,
    });
    const rows = await runArchives(image, {
      work: join(work, 'archives'),
      runs: options.runs,
      warmup: options.warmup,
      log,
    });
    for (const row of rows) {
      log(
        `  ${row.name.padEnd(20)} ours ${(row.oursMs / 1000).toFixed(2)} s, skopeo ${(row.skopeoMs / 1000).toFixed(2)} s, ratio ${row.ratio.toFixed(2)}×`,
      );
    }
    await rm(image.dir, { recursive: true, force: true });
    log('archives: peak RSS as the archive grows');
    const sizes = [Math.max(1, Math.round(options.memoryMiB / 4)), options.memoryMiB];
    const memory = [];
    for (const size of sizes) {
      const grown = await writeRandomImage(join(work, `image-archives-${size}`), {
        layers: 1,
        layerBytes: size * MiB,
        realDiffIds: true,
      });
      memory.push(...(await runArchiveMemory([grown], { work: join(work, `archives-memory-${size}`), log })));
      await rm(grown.dir, { recursive: true, force: true });
    }
    results.archives = { image: `1×${options.archiveMiB} MiB`, rows, memory };
  }
  if (options.parts.includes('micro')) {
    log('library microbenchmarks…');
    const micro = await run(
      process.execPath,
      [fileURLToPath(new URL('micro.mjs', import.meta.url)), ...(quick ? ['--quick'] : [])],
      {
        measureRss: false,
      },
    );
    results.micro = micro.json;
    const retention = await run(
      process.execPath,
      [fileURLToPath(new URL('packages/client/bench/retention-plan.mjs', ROOT)), '10000', quick ? '3' : '7'],
      { measureRss: false },
    );
    results.retention = JSON.parse(retention.stdout);
    const revalidation = await run(
      process.execPath,
      [
        fileURLToPath(new URL('packages/client/bench/retention-revalidate.mjs', ROOT)),
        quick ? '2000' : '10000',
      ],
      { measureRss: false },
    );
    results.retentionRevalidate = JSON.parse(revalidation.stdout);
    log(
      `  tag listing per-tag growth ${results.micro.tagListing.perTagGrowth.toFixed(2)}, token sharing ${results.micro.tokenSharing.ok ? 'ok' : 'NOT ok'}, retention ${results.retention.planMedianMs} ms`,
    );
  }
} finally {
  await stopAllRegistries();
  if (flags.keep) log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}

results.loadAtEnd = loadavg();
results.elapsedMs = Date.now() - started;
const report = renderReport(results);
const markdown = report.markdown + renderArchives(results.archives);
const targets = report.targets;
if (options.out !== undefined) {
  const existing = await readFile(options.out, 'utf8').catch(() => undefined);
  await writeFile(options.out, mergeReport(existing, markdown));
  log(`wrote ${options.out}`);
}
if (flags.json !== undefined) {
  await writeFile(flags.json, JSON.stringify({ ...results, targets }, null, 2));
  log(`wrote ${flags.json}`);
}
log('');
log('targets:');
for (const target of targets)
  log(`  ${target.met ? 'met   ' : 'MISSED'} ${target.target}: ${target.measured}`);
log(`done in ${(results.elapsedMs / 60000).toFixed(1)} min`);
