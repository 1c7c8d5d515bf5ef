// The transfer scenarios: push from an OCI layout, pull to one, copy inside one registry, copy to
// a second registry; and, with the first image, `tags` and `inspect` (commands that move no
// blobs). Each run of each tool gets what it needs fresh (a new registry process on a new port for
// every push and every cross-registry destination, so neither tool finds blobs there nor in
// skopeo's blob-info cache; a new directory for every pull; a new repository for every
// same-registry copy). Ours and skopeo alternate run for run (who goes first flips each run); the
// machine's limit (curl, openssl, dd: lib/limits.mjs) and the ceiling script (a diagnostic) run after
// both. The first `warmup` runs are not recorded.
import { readdir, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  LIMIT_TOOLS,
  limitDisk,
  limitGet,
  limitGetAndPut,
  limitGetSha256,
  limitGetSha256Split,
  limitMount,
  limitPut,
} from './limits.mjs';
import { cliBuilt, oursCli, oursCommand } from './ours.mjs';
import { run, sync } from './process.mjs';
import { blobTraffic, startRegistry } from './registry.mjs';
import { median } from './stats.mjs';

const CEILING = fileURLToPath(new URL('../ceiling.mjs', import.meta.url));
const BARE_NODE = fileURLToPath(new URL('./bare-node.cjs', import.meta.url));
/** The least a Node program does for a command that moves no blobs (`bare-node.cjs`), on Node's defaults. */
const bareNode = (...args) => [process.execPath, [BARE_NODE, ...args]];
const REPO = 'bench/app';
const TAG = 'v1';
const OCI_ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json';

const ceiling = (...args) => [process.execPath, [CEILING, ...args]];
const skopeo = (...args) => ['skopeo', ['copy', '--quiet', ...args]];

async function manifestDigest(host, repo, tag) {
  const response = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: OCI_ACCEPT },
  });
  return response.status === 200 ? response.headers.get('docker-content-digest') : undefined;
}

async function expectManifest(host, repo, tag, image, who) {
  const digest = await manifestDigest(host, repo, tag);
  if (digest === undefined) throw new Error(`${who}: ${host}/${repo}:${tag} is not there after the run`);
  if (digest !== image.manifest.digest) {
    throw new Error(
      `${who}: ${host}/${repo}:${tag} is ${digest}, expected the source manifest ${image.manifest.digest}`,
    );
  }
}

/** The pulled layout must hold every blob of the image, whole. */
async function expectLayout(dir, image, who) {
  const names = new Set(await readdir(`${dir}/blobs/sha256`).catch(() => []));
  for (const blob of [image.config, ...image.layers]) {
    const hex = blob.digest.slice(7);
    if (!names.has(hex) || (await stat(`${dir}/blobs/sha256/${hex}`)).size !== blob.size) {
      throw new Error(`${who}: the pulled layout ${dir} lacks ${blob.digest} (or it is short)`);
    }
  }
}

/** Pushes `image` (an OCI layout) to `registry` with the ceiling script (not timed). */
export async function seed(registry, image, repo = REPO) {
  const [command, args] = ceiling('push', image.dir, TAG, registry.host, repo);
  await run(command, args, { measureRss: false });
}

/**
 * The registry a scenario reads from: started with the image pushed by `setup()`, the same for
 * every run, stopped by `teardown()`.
 */
function seededRegistry(dir, image) {
  const source = {
    registry: undefined,
    async setup() {
      source.registry = await startRegistry(dir);
      await seed(source.registry, image);
    },
    async teardown() {
      await source.registry?.stop();
    },
  };
  return source;
}

/**
 * The command lines of ours and skopeo for each operation (`tool` is `ours` or `skopeo`), every
 * registry over plain HTTP: push a layout's `TAG` to `ref`, pull `ref` to a layout, copy `from` to `to`.
 */
function toolCommands(implementation) {
  const ours = (operation, first, second) => oursCommand(implementation, operation, first, second);
  return {
    push: (tool, layout, ref) =>
      tool === 'ours'
        ? ours('push', ref, layout)
        : skopeo('--dest-tls-verify=false', `oci:${layout}:${TAG}`, `docker://${ref}`),
    pull: (tool, ref, dir) =>
      tool === 'ours'
        ? ours('pull', ref, dir)
        : skopeo('--src-tls-verify=false', `docker://${ref}`, `oci:${dir}:${TAG}`),
    copy: (tool, from, to) =>
      tool === 'ours'
        ? ours('copy', from, to)
        : skopeo('--src-tls-verify=false', '--dest-tls-verify=false', `docker://${from}`, `docker://${to}`),
  };
}

/** Access-log entries added since `before` (an array length). */
async function since(registry, before) {
  const entries = await registry.accessLog();
  return entries.slice(before);
}

/** The tag list printed by `ghcr tags` or `skopeo list-tags` must be the seeded tag's. */
function expectTags(stdout, who) {
  const text = stdout.trim();
  const tags = text.startsWith('{') ? JSON.parse(text).Tags : text.split('\n');
  if (tags?.length !== 1 || tags[0] !== TAG) {
    throw new Error(`${who}: listed ${JSON.stringify(tags)}, expected ["${TAG}"]`);
  }
}

/** What `ghcr inspect` or `skopeo inspect` printed must name the image's manifest digest. */
function expectInspected(stdout, image, who) {
  if (!stdout.includes(image.manifest.digest)) {
    throw new Error(`${who}: the inspect output does not name ${image.manifest.digest}`);
  }
}

/**
 * The commands that move no blobs besides the same-registry copy (issue 18's goal: within 1.5×
 * skopeo's wall time), against one seeded registry: `ghcr tags` / `skopeo list-tags`, and `ghcr
 * inspect` / `skopeo inspect` (each reads the manifest and the config; skopeo also lists the tags).
 * Timed through the CLI only (the library stand-in has no such commands); no limit or ceiling rows:
 * they move a few KiB, and what bounds them is each tool's start. Beside them runs the least a
 * Node program does for the same requests (`bare-node.cjs`), the bound a Node CLI cannot beat.
 */
function metadataScenarios(work, image) {
  if (!cliBuilt()) return [];
  const source = seededRegistry(`${work}/metadata-registry`, image);
  let started;
  // Both scenarios read the one registry: seeded once, stopped after the second (or with every
  // registry at the end of the run, if --scenarios leaves that one out).
  const setup = () => {
    started ??= source.setup();
    return started;
  };
  const ref = (tag = '') => `${source.registry.host}/${REPO}${tag}`;
  return [
    {
      name: 'tags',
      title: 'list the tags (`ghcr tags`, `skopeo list-tags`)',
      setup,
      ceiling: false,
      bare: true,
      prepare: async () => ({ before: (await source.registry.accessLog()).length }),
      command: (tool) =>
        tool === 'ours'
          ? oursCli('tags', ref())
          : tool === 'node-bare'
            ? bareNode('tags', source.registry.host, REPO)
            : ['skopeo', ['list-tags', '--tls-verify=false', `docker://${ref()}`]],
      registries: () => [source.registry],
      async finish(tool, { before }, result) {
        expectTags(result.stdout, tool);
        return { traffic: blobTraffic(await since(source.registry, before)) };
      },
      async teardown() {},
    },
    {
      name: 'inspect',
      title: 'inspect the image (`ghcr inspect`, `skopeo inspect`)',
      setup,
      ceiling: false,
      bare: true,
      prepare: async () => ({ before: (await source.registry.accessLog()).length }),
      command: (tool) =>
        tool === 'ours'
          ? oursCli('inspect', ref(`:${TAG}`))
          : tool === 'node-bare'
            ? bareNode('inspect', source.registry.host, REPO, TAG)
            : ['skopeo', ['inspect', '--tls-verify=false', `docker://${ref(`:${TAG}`)}`]],
      registries: () => [source.registry],
      async finish(tool, { before }, result) {
        expectInspected(result.stdout, image, tool);
        return { traffic: blobTraffic(await since(source.registry, before)) };
      },
      teardown: source.teardown,
    },
  ];
}

/**
 * The four scenarios for one image. `scenario.setup()` once, then per run and tool
 * `prepare(tool, runIndex)` → context, `command(tool, context)`, `finish(tool, context, result)` →
 * extra numbers (traffic), and `teardown()` at the end.
 */
function scenarios(image, work, implementation) {
  const commands = toolCommands(implementation);
  return [
    {
      name: 'push',
      title: 'push from an OCI layout',
      async setup() {},
      async prepare(tool, index) {
        return { registry: await startRegistry(`${work}/push-${tool}-${index}`) };
      },
      command(tool, { registry }) {
        if (tool === 'ceiling') return ceiling('push', image.dir, TAG, registry.host, REPO);
        if (tool === 'limit-put') return limitPut(image, registry.host, REPO, TAG);
        return commands.push(tool, image.dir, `${registry.host}/${REPO}:${TAG}`);
      },
      registries: ({ registry }) => [registry],
      async finish(tool, { registry }) {
        await expectManifest(registry.host, REPO, TAG, image, tool);
        const traffic = blobTraffic(await registry.accessLog());
        await registry.stop();
        return { traffic };
      },
      async teardown() {},
    },
    (() => {
      const source = seededRegistry(`${work}/pull-registry`, image);
      return {
        name: 'pull',
        title: 'pull to an OCI layout',
        setup: source.setup,
        async prepare(tool, index) {
          const dir = `${work}/pull-${tool}-${index}`;
          await rm(dir, { recursive: true, force: true });
          return { dir, before: (await source.registry.accessLog()).length };
        },
        command(tool, { dir }) {
          const { host } = source.registry;
          if (tool === 'ceiling') return ceiling('pull', host, REPO, TAG, dir);
          if (tool === 'limit-get') return limitGet(image, host, REPO);
          if (tool === 'limit-get-sha256') return limitGetSha256(image, host, REPO);
          if (tool === 'limit-get-sha256-split') return limitGetSha256Split(image, host, REPO);
          if (tool === 'limit-disk') return limitDisk(image, dir);
          return commands.pull(tool, `${host}/${REPO}:${TAG}`, dir);
        },
        registries: () => [source.registry],
        async finish(tool, { dir, before }) {
          if (!tool.startsWith('limit-')) await expectLayout(dir, image, tool);
          await rm(dir, { recursive: true, force: true });
          return { traffic: blobTraffic(await since(source.registry, before)) };
        },
        teardown: source.teardown,
      };
    })(),
    (() => {
      const source = seededRegistry(`${work}/copy-same-registry`, image);
      return {
        name: 'copy-same',
        title: 'copy inside one registry (another repository)',
        setup: source.setup,
        bare: true,
        async prepare(tool, index) {
          return { repo: `bench/copy-${tool}-${index}`, before: (await source.registry.accessLog()).length };
        },
        command(tool, { repo }) {
          const { host } = source.registry;
          if (tool === 'ceiling') return ceiling('copy', host, REPO, TAG, host, repo);
          if (tool === 'limit-mount') return limitMount(image, host, REPO, repo, TAG);
          if (tool === 'node-bare') return bareNode('copy-same', host, REPO, TAG, repo);
          return commands.copy(tool, `${host}/${REPO}:${TAG}`, `${host}/${repo}:${TAG}`);
        },
        registries: () => [source.registry],
        async finish(tool, { repo, before }) {
          await expectManifest(source.registry.host, repo, TAG, image, tool);
          return { traffic: blobTraffic(await since(source.registry, before)) };
        },
        teardown: source.teardown,
      };
    })(),
    (() => {
      const source = seededRegistry(`${work}/copy-cross-source`, image);
      return {
        name: 'copy-cross',
        title: 'copy to a second registry',
        setup: source.setup,
        async prepare(tool, index) {
          return {
            // The GET stage of the limit reads the source only.
            destination:
              tool === 'limit-get-sha256' || tool === 'limit-get-sha256-split'
                ? undefined
                : await startRegistry(`${work}/copy-cross-${tool}-${index}`),
            before: (await source.registry.accessLog()).length,
          };
        },
        command(tool, { destination }) {
          if (tool === 'ceiling')
            return ceiling('copy', source.registry.host, REPO, TAG, destination.host, REPO);
          if (tool === 'limit-get-sha256') return limitGetSha256(image, source.registry.host, REPO);
          if (tool === 'limit-get-sha256-split')
            return limitGetSha256Split(image, source.registry.host, REPO);
          // The PUT stage of the limit uploads the layout's files (what the copy must send).
          const put = () => limitPut(image, destination.host, REPO, TAG);
          if (tool === 'limit-put') return put();
          if (tool === 'limit-get-and-put')
            return limitGetAndPut(limitGet(image, source.registry.host, REPO), put());
          if (tool === 'limit-get-sha256-and-put')
            return limitGetAndPut(limitGetSha256(image, source.registry.host, REPO), put());
          if (tool === 'limit-get-sha256-split-and-put')
            return limitGetAndPut(limitGetSha256Split(image, source.registry.host, REPO), put());
          return commands.copy(
            tool,
            `${source.registry.host}/${REPO}:${TAG}`,
            `${destination.host}/${REPO}:${TAG}`,
          );
        },
        registries: ({ destination }) =>
          destination === undefined ? [source.registry] : [source.registry, destination],
        async finish(tool, { destination, before }) {
          if (destination === undefined) {
            return { traffic: blobTraffic(await since(source.registry, before)) };
          }
          await expectManifest(destination.host, REPO, TAG, image, tool);
          const read = blobTraffic(await since(source.registry, before));
          const written = blobTraffic(await destination.accessLog());
          await destination.stop();
          return { traffic: { ...written, blobGets: read.blobGets, blobGetBytes: read.blobGetBytes } };
        },
        teardown: source.teardown,
      };
    })(),
  ];
}

/** CPU time (ms) the registry processes have used so far (NaN where /proc is not there). */
async function registryCpu(registries) {
  let total = 0;
  for (const registry of registries) total += (await registry.cpuTimeMs()) ?? Number.NaN;
  return total;
}

/**
 * Runs every scenario for `image`; returns `[{ name, title, tools: { ours, skopeo, ceiling?, node-bare?, limit-… } }]`
 * where each tool has `ms[]`, `cpuMs[]` (the tool's user + system time), `registryCpuMs[]` (the
 * registries' CPU during the run), `rss[]`, `traffic[]` of the recorded runs (and `warmupMs[]`).
 * `ceiling: false` leaves the ceiling script (a diagnostic) out; the limit tools always run, and so
 * does `node-bare` (`bare-node.cjs`) for a scenario with `bare: true` (the commands that move no blobs).
 */
export async function runTransfers(
  image,
  { work, runs, warmup, implementation, only, ceiling: withCeiling = true, metadata = false, log },
) {
  const results = [];
  const all = [
    ...scenarios(image, work, implementation),
    ...(metadata ? metadataScenarios(work, image) : []),
  ];
  for (const scenario of all) {
    if (only !== undefined && !only.includes(scenario.name)) continue;
    log(`  ${scenario.title}`);
    await scenario.setup();
    const after = [
      ...(withCeiling && scenario.ceiling !== false ? ['ceiling'] : []),
      ...(scenario.bare === true ? ['node-bare'] : []),
      ...(LIMIT_TOOLS[scenario.name] ?? []),
    ];
    const tools = {};
    for (const tool of ['ours', 'skopeo', ...after]) {
      tools[tool] = { ms: [], cpuMs: [], registryCpuMs: [], rss: [], traffic: [], warmupMs: [] };
    }
    try {
      for (let index = 0; index < warmup + runs; index++) {
        const order = [...(index % 2 === 0 ? ['ours', 'skopeo'] : ['skopeo', 'ours']), ...after];
        const line = [];
        for (const tool of order) {
          const context = await scenario.prepare(tool, index);
          await sync();
          const [command, args] = scenario.command(tool, context);
          const registries = scenario.registries(context);
          const cpuBefore = await registryCpu(registries);
          const result = await run(command, args);
          const registryCpuMs = (await registryCpu(registries)) - cpuBefore;
          const { traffic } = await scenario.finish(tool, context, result);
          // A limit that times its requests itself (`limit-mount.sh`: curl's timings, without the
          // start of bash and curl) reports that; everything else is timed from spawn to exit.
          const ms =
            tool.startsWith('limit-') && typeof result.json?.requestMs === 'number'
              ? result.json.requestMs
              : result.ms;
          const bucket = tools[tool];
          if (index < warmup) bucket.warmupMs.push(ms);
          else {
            bucket.ms.push(ms);
            bucket.cpuMs.push(result.cpuMs);
            bucket.registryCpuMs.push(registryCpuMs);
            bucket.rss.push(result.maxRssBytes);
            bucket.traffic.push(traffic);
          }
          line.push(`${tool} ${(ms / 1000).toFixed(2)} s`);
        }
        log(`    ${index < warmup ? 'warm-up' : `run ${index - warmup + 1}`}: ${line.join(', ')}`);
      }
    } finally {
      await scenario.teardown();
    }
    results.push({ name: scenario.name, title: scenario.title, tools });
  }
  return results;
}

/** How `lib/receive-floor.mjs` receives the layer: a socket's default reads, one reused buffer, undici. */
const RECEIVE_FLOOR_MODES = ['socket', 'reused', 'undici'];
const RECEIVE_FLOOR = fileURLToPath(new URL('./receive-floor.mjs', import.meta.url));

/**
 * Peak RSS of one big single-layer image pushed, pulled and copied (one run each, ours then
 * skopeo, for reference), each with fresh destinations; then what Node itself holds receiving
 * that layer (`floors`). Returns `{ rows, floors }`.
 */
export async function runMemory(image, { work, implementation, log }) {
  const rows = [];
  const floors = [];
  const source = await startRegistry(`${work}/memory-source`);
  try {
    await seed(source, image);
    const commands = toolCommands(implementation);
    const operations = [
      {
        name: 'push',
        async prepare() {
          return { registry: await startRegistry(`${work}/memory-push`) };
        },
        command: (tool, { registry }) => commands.push(tool, image.dir, `${registry.host}/${REPO}:${TAG}`),
        async finish(tool, { registry }) {
          await expectManifest(registry.host, REPO, TAG, image, tool);
          await registry.stop();
        },
      },
      {
        name: 'pull',
        async prepare(tool) {
          return { dir: `${work}/memory-pull-${tool}` };
        },
        command: (tool, { dir }) => commands.pull(tool, `${source.host}/${REPO}:${TAG}`, dir),
        async finish(tool, { dir }) {
          await expectLayout(dir, image, tool);
          await rm(dir, { recursive: true, force: true });
        },
      },
      {
        name: 'copy',
        async prepare() {
          return { registry: await startRegistry(`${work}/memory-copy`) };
        },
        command: (tool, { registry }) =>
          commands.copy(tool, `${source.host}/${REPO}:${TAG}`, `${registry.host}/${REPO}:${TAG}`),
        async finish(tool, { registry }) {
          await expectManifest(registry.host, REPO, TAG, image, tool);
          await registry.stop();
        },
      },
    ];
    for (const operation of operations) {
      const row = { name: operation.name };
      for (const tool of ['ours', 'skopeo']) {
        const context = await operation.prepare(tool);
        await sync();
        const [command, args] = operation.command(tool, context);
        const result = await run(command, args);
        await operation.finish(tool, context);
        row[tool] = { ms: result.ms, maxRssBytes: result.maxRssBytes };
      }
      log(
        `  ${operation.name}: ours ${(row.ours.maxRssBytes / 2 ** 20).toFixed(0)} MiB peak RSS in ${(row.ours.ms / 1000).toFixed(1)} s; ` +
          `skopeo ${(row.skopeo.maxRssBytes / 2 ** 20).toFixed(0)} MiB in ${(row.skopeo.ms / 1000).toFixed(1)} s`,
      );
      rows.push(row);
    }
    // What Node itself holds receiving the layer, below any client (lib/receive-floor.mjs), three
    // runs each, median.
    const layer = image.layers[0];
    for (const mode of RECEIVE_FLOOR_MODES) {
      const samples = [];
      for (let index = 0; index < 3; index++) {
        await sync();
        samples.push(
          await run(process.execPath, [
            RECEIVE_FLOOR,
            mode,
            source.host,
            `/v2/${REPO}/blobs/${layer.digest}`,
            String(layer.size),
          ]),
        );
      }
      const floor = {
        mode,
        ms: median(samples.map((sample) => sample.ms)),
        cpuMs: median(samples.map((sample) => sample.cpuMs).filter(Number.isFinite)),
        maxRssBytes: median(samples.map((sample) => sample.maxRssBytes).filter(Number.isFinite)),
      };
      log(
        `  receiving the layer, ${mode}: ${(floor.maxRssBytes / 2 ** 20).toFixed(0)} MiB peak RSS, CPU ${(floor.cpuMs / 1000).toFixed(2)} s`,
      );
      floors.push(floor);
    }
  } finally {
    await source.stop();
  }
  return { rows, floors };
}
