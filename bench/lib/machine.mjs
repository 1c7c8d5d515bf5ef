// What the numbers were measured on: the machine, its load, and the versions of everything timed.
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { REMOVED_FROM_TOOL_ENV, removedToolEnv } from './env.mjs';
import { run } from './process.mjs';

async function firstLine(command, args) {
  const result = await run(command, args, { allowFailure: true, measureRss: false }).catch(() => undefined);
  if (result === undefined || result.code !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0];
}

async function cpuModel() {
  const fromNode = cpus()[0]?.model?.trim();
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const fromProc = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
  return fromProc ?? fromNode ?? 'unknown';
}

export async function describeMachine() {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  return {
    nproc: availableParallelism(),
    memoryGiB: totalmem() / 1024 ** 3,
    cpu: await cpuModel(),
    os: /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(osRelease)?.[1] ?? 'unknown',
    kernel: release(),
    loadAverage: loadavg(),
    // What the timed processes' environment leaves out (`bench/lib/env.mjs`), and which of those
    // this machine sets.
    environment: { removed: REMOVED_FROM_TOOL_ENV, set: Object.keys(removedToolEnv) },
  };
}

export async function describeVersions(root) {
  const packageVersion = async (name) =>
    JSON.parse(await readFile(new URL(`packages/${name}/package.json`, root), 'utf8')).version;
  const commit = await firstLine('git', ['-C', new URL('.', root).pathname, 'rev-parse', '--short', 'HEAD']);
  const dirty = await run(
    'git',
    ['-C', new URL('.', root).pathname, 'status', '--porcelain', '--', 'packages'],
    {
      allowFailure: true,
      measureRss: false,
    },
  ).catch(() => undefined);
  return {
    node: process.version,
    dockerRegistry: (await firstLine('docker-registry', ['--version']))?.replace(/^docker-registry\s+/, ''),
    skopeo: (await firstLine('skopeo', ['--version']))?.replace(/^skopeo version\s+/, ''),
    ghcrCli: await packageVersion('cli').catch(() => undefined),
    ghcrClient: await packageVersion('client').catch(() => undefined),
    commit:
      commit === undefined
        ? undefined
        : `${commit}${dirty?.stdout.trim() ? ' (with uncommitted changes in packages/)' : ''}`,
  };
}
