/**
 * The fault matrix: push, pull and copy through a seeded {@link startFaultProxy} between a client
 * (the built `ghcr` CLI, or skopeo for comparison) and Debian's docker-registry, then a check of
 * the result by a tool other than ours (skopeo, reading the registry directly, and sha256 over
 * the files on disk). Shared by the quick integration test and `pnpm faults`.
 */

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definedProps } from '@ghcr/oci-types';
import { type DockerRegistry, startDockerRegistry } from './docker-registry.js';
import { type FaultKind, type FaultProxy, startFaultProxy } from './fault-proxy.js';

/** Which client a run used. @internal */
export type MatrixTool = 'ghcr' | 'skopeo';
/** The operation a run did. @internal */
export type MatrixOperation = 'push' | 'pull' | 'copy';

/** One scenario of the matrix. @internal */
export interface MatrixScenario {
  readonly name: string;
  readonly operation: MatrixOperation;
  /** Share of requests faulted. */
  readonly rate: number;
  readonly seed: number;
  /** Fault kinds drawn from. If omitted, the proxy's default mix. */
  readonly kinds?: readonly FaultKind[];
  /** Corrupt every blob GET: the run must fail, cleanly. */
  readonly corruptEveryBlob?: boolean;
  /** Restart the registry when the first upload request arrives (push only). */
  readonly restartMidUpload?: boolean;
  /** The run must fail (cleanly) rather than succeed. */
  readonly mustFail?: boolean;
}

/** What one run did and what the check found. @internal */
export interface MatrixRun {
  readonly tool: MatrixTool;
  readonly scenario: string;
  readonly faults: number;
  readonly succeeded: boolean;
  /** The result is not a complete exact image, and not a clean absence either. */
  readonly corrupt: boolean;
  /** Failed without one clear line saying what to do. */
  readonly unclear: boolean;
  /** Why the run counts as corrupt or unclear, or the error line of a clean failure. */
  readonly note: string;
  readonly stderr: string;
}

/** A row of the table. @internal */
export interface MatrixRow {
  readonly tool: MatrixTool;
  readonly runs: number;
  readonly faults: number;
  readonly succeeded: number;
  readonly corrupt: number;
  readonly unclear: number;
}

/** Options of {@link runFaultMatrix}. @internal */
export interface FaultMatrixOptions {
  /** Path of the built CLI (`packages/cli/dist/bin.cjs`). */
  readonly cli: string;
  readonly scenarios: readonly MatrixScenario[];
  /** Layer sizes of the test image, bytes. */
  readonly layerSizes: readonly number[];
  /** Run skopeo through the same scenarios too. If omitted, true. */
  readonly skopeo?: boolean;
  /** Called after each run (progress for the script). If omitted, nothing. */
  readonly onRun?: (run: MatrixRun) => void;
}

const sha256 = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

interface Outcome {
  readonly code: number | null;
  readonly stderr: string;
  /** Standard output, when asked for. */
  readonly stdout: Buffer;
}

function run(
  command: string,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  keepStdout = false,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env, stdio: ['ignore', keepStdout ? 'pipe' : 'ignore', 'pipe'] });
    let stderr = '';
    const stdout: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, stdout: Buffer.concat(stdout) }));
  });
}

/** Writes a single-platform OCI image layout with random layers; returns its manifest digest. */
async function writeLayout(directory: string, layerSizes: readonly number[]): Promise<string> {
  const blobs = join(directory, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes: Uint8Array): Promise<string> => {
    const hex = sha256(bytes);
    await writeFile(join(blobs, hex), bytes);
    return `sha256:${hex}`;
  };
  const layers = [];
  for (const size of layerSizes) {
    const bytes = randomBytes(size);
    layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await put(bytes), size });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: await put(config),
        size: config.byteLength,
      },
      layers,
    }),
  );
  const digest = await put(manifest);
  await writeFile(join(directory, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(directory, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest,
          size: manifest.byteLength,
          annotations: { 'org.opencontainers.image.ref.name': 'v1' },
        },
      ],
    }),
  );
  return digest;
}

/** Every file of a layout's `blobs/sha256` hashes to its name; the names that do not. */
async function misnamedBlobs(directory: string): Promise<string[]> {
  const blobs = join(directory, 'blobs', 'sha256');
  const names = await readdir(blobs).catch(() => [] as string[]);
  const bad: string[] = [];
  for (const name of names) {
    if (sha256(await readFile(join(blobs, name))) !== name) bad.push(name);
  }
  return bad;
}

/** The digest `index.json` names `v1`, when it does. */
async function layoutTag(directory: string): Promise<string | undefined> {
  try {
    const index = JSON.parse(await readFile(join(directory, 'index.json'), 'utf8')) as {
      manifests?: { digest: string; annotations?: Record<string, string> }[];
    };
    return index.manifests?.find((entry) => entry.annotations?.['org.opencontainers.image.ref.name'] === 'v1')
      ?.digest;
  } catch {
    return undefined;
  }
}

/** Words of an error line that tell the reader what to do. */
const ADVICE =
  /\b(retry|check|add --[a-z-]+|log in|run|see|raise|lower|fix|push again|fetch it again|give|report)\b/i;

/** One clear line: ours prints `error: CODE: what happened. What to do.`; anything else is unclear. */
function clarity(tool: MatrixTool, stderr: string): { unclear: boolean; line: string } {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('debug:'));
  if (tool === 'ghcr') {
    const errors = lines.filter((line) => line.startsWith('error: '));
    const line = errors[0] ?? lines.at(-1) ?? '';
    return { unclear: errors.length !== 1 || !ADVICE.test(line), line };
  }
  const line = lines.at(-1) ?? '';
  return { unclear: !ADVICE.test(line), line };
}

/**
 * Runs the scenarios with the CLI (and skopeo), each against fresh repositories, and checks each
 * result with skopeo reading the registry directly.
 * @internal
 */
export async function runFaultMatrix(
  options: FaultMatrixOptions,
): Promise<{ runs: MatrixRun[]; rows: MatrixRow[] }> {
  const work = await mkdtemp(join(tmpdir(), 'ghcr-faults-'));
  const env: NodeJS.ProcessEnv = {
    HOME: work,
    DOCKER_CONFIG: join(work, 'docker'),
    PATH: process.env.PATH,
    // skopeo keeps its blob cache and temp files here.
    TMPDIR: join(work, 'tmp'),
  };
  await mkdir(join(work, 'tmp'), { recursive: true });
  let source: DockerRegistry | undefined;
  let destination: DockerRegistry | undefined;
  const runs: MatrixRun[] = [];
  try {
    source = await startDockerRegistry();
    destination = await startDockerRegistry();
    const layout = join(work, 'image');
    const layoutDigest = await writeLayout(layout, options.layerSizes);
    // The source image goes in with skopeo, directly: nothing of ours between.
    const seeded = await run(
      'skopeo',
      [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--dest-tls-verify=false',
        `oci:${layout}:v1`,
        `docker://${source.host}/m/src:v1`,
      ],
      env,
    );
    if (seeded.code !== 0) throw new Error(`skopeo could not seed the source registry: ${seeded.stderr}`);
    // skopeo may rewrite the manifest on the way in: what pull and copy must reproduce is what
    // the source registry serves.
    const served = await run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', `docker://${source.host}/m/src:v1`],
      env,
      true,
    );
    const sourceDigest = `sha256:${sha256(served.stdout)}`;

    let lastCheck = '';
    const skopeoReads = async (
      reference: string,
      into: string,
      expected: string,
    ): Promise<'absent' | 'exact' | 'wrong'> => {
      const tls = reference.startsWith('docker://') ? ['--tls-verify=false'] : [];
      const inspected = await run('skopeo', ['inspect', '--raw', ...tls, reference], env, true);
      lastCheck = inspected.stderr.trim();
      if (inspected.code !== 0)
        return /manifest unknown|not found/i.test(inspected.stderr) ? 'absent' : 'wrong';
      // The manifest must be the exact bytes; then skopeo must read every blob it names (it checks
      // each blob's digest as it copies). The copy's own manifest may differ (skopeo rewrites it).
      const served = `sha256:${sha256(inspected.stdout)}`;
      if (served !== expected) {
        lastCheck = `the manifest is ${served}, expected ${expected}`;
        return 'wrong';
      }
      const copied = await run(
        'skopeo',
        ['copy', '--quiet', ...tls.map((flag) => flag.replace('--', '--src-')), reference, `oci:${into}:v1`],
        env,
      );
      lastCheck = copied.stderr.trim();
      if (copied.code !== 0) return 'wrong';
      const bad = await misnamedBlobs(into);
      lastCheck = bad.length === 0 ? '' : `skopeo's copy has misnamed blobs ${bad.join(', ')}`;
      return bad.length === 0 ? 'exact' : 'wrong';
    };

    const tools: MatrixTool[] = options.skopeo === false ? ['ghcr'] : ['ghcr', 'skopeo'];
    let counter = 0;
    for (const scenario of options.scenarios) {
      for (const tool of tools) {
        counter += 1;
        const id = `${scenario.operation}-${counter}`;
        const registry = scenario.operation === 'pull' ? source : destination;
        const proxyOptions = {
          rate: scenario.rate,
          ...definedProps({ kinds: scenario.kinds }),
          ...(scenario.corruptEveryBlob === true
            ? {
                always: {
                  kind: 'corrupt' as const,
                  match: (method: string, path: string) => method === 'GET' && /\/blobs\/sha256:/.test(path),
                },
              }
            : {}),
        };
        const proxies: FaultProxy[] = [];
        let current: DockerRegistry = registry;
        const proxy = await startFaultProxy({
          target: registry.url,
          seed: scenario.seed,
          ...proxyOptions,
          ...(scenario.restartMidUpload === true
            ? {
                interrupt: {
                  match: (method: string, path: string) =>
                    (method === 'PUT' || method === 'PATCH') && path.includes('/blobs/uploads/'),
                  run: async () => {
                    const directory = current.storageDir;
                    await current.stop({ keepStorage: true });
                    current = await startDockerRegistry({ directory, keepData: true });
                    destination = current;
                    proxy.setTarget(current.url);
                  },
                },
              }
            : {}),
        });
        proxies.push(proxy);
        // A copy's source goes through a proxy of its own, seeded differently.
        const sourceProxy =
          scenario.operation === 'copy'
            ? await startFaultProxy({ target: source.url, seed: scenario.seed + 7919, ...proxyOptions })
            : undefined;
        if (sourceProxy !== undefined) proxies.push(sourceProxy);
        const pulled = join(work, `${id}-${tool}-pulled`);
        const repository = `m/${id}-${tool}`;
        let argv: string[];
        if (tool === 'ghcr') {
          const cli = [options.cli];
          argv =
            scenario.operation === 'push'
              ? [...cli, 'push', `${proxy.host}/${repository}:v1`, layout, '--debug']
              : scenario.operation === 'pull'
                ? [...cli, 'pull', `${proxy.host}/m/src:v1`, pulled, '--debug']
                : [
                    ...cli,
                    'copy',
                    `${sourceProxy?.host}/m/src:v1`,
                    `${proxy.host}/${repository}:v1`,
                    '--debug',
                  ];
        } else {
          const common = [
            'copy',
            '--quiet',
            '--retry-times',
            '3',
            // The exact bytes, as ours keeps them: otherwise skopeo may rewrite the manifest.
            '--preserve-digests',
            '--src-tls-verify=false',
            '--dest-tls-verify=false',
          ];
          argv =
            scenario.operation === 'push'
              ? [...common, `oci:${layout}:v1`, `docker://${proxy.host}/${repository}:v1`]
              : scenario.operation === 'pull'
                ? [...common, `docker://${proxy.host}/m/src:v1`, `oci:${pulled}:v1`]
                : [
                    ...common,
                    `docker://${sourceProxy?.host}/m/src:v1`,
                    `docker://${proxy.host}/${repository}:v1`,
                  ];
        }
        const outcome = await run(tool === 'ghcr' ? process.execPath : 'skopeo', argv, env);
        const faults = proxies.reduce((sum, each) => sum + each.faults(), 0);
        for (const each of proxies) await each.close();

        const succeeded = outcome.code === 0;
        const expected = scenario.operation === 'push' ? layoutDigest : sourceDigest;
        let corrupt = false;
        let why = '';
        if (scenario.operation === 'pull') {
          const bad = await misnamedBlobs(pulled);
          const tagged = await layoutTag(pulled);
          if (bad.length > 0) {
            corrupt = true;
            why = `blob files whose name is not their digest: ${bad.join(', ')}`;
          } else if (tagged !== undefined) {
            const check = await skopeoReads(`oci:${pulled}:v1`, join(work, `${id}-${tool}-check`), expected);
            if (tagged !== expected || check !== 'exact') {
              corrupt = true;
              why = `the layout names v1 but skopeo reads ${check}: ${lastCheck}`;
            }
          } else if (succeeded) {
            corrupt = true;
            why = 'succeeded but the layout names no v1';
          }
        } else {
          const at = scenario.restartMidUpload === true ? current : (destination ?? registry);
          const check = await skopeoReads(
            `docker://${at.host}/${repository}:v1`,
            join(work, `${id}-${tool}-check`),
            expected,
          );
          if (check === 'wrong' || (succeeded && check !== 'exact')) {
            corrupt = true;
            why = `the registry's ${repository}:v1 is ${check}: ${lastCheck}`;
          }
        }
        if (scenario.mustFail === true && succeeded) {
          corrupt = true;
          why = 'succeeded although it had to fail';
        }
        const { unclear, line } = succeeded ? { unclear: false, line: '' } : clarity(tool, outcome.stderr);
        const record: MatrixRun = {
          tool,
          scenario: scenario.name,
          faults,
          succeeded,
          corrupt,
          unclear,
          note: corrupt ? why : line,
          stderr: outcome.stderr.slice(-4000),
        };
        runs.push(record);
        options.onRun?.(record);
      }
    }
  } finally {
    await source?.stop();
    await destination?.stop();
    await rm(work, { recursive: true, force: true });
  }
  const rows = (['ghcr', 'skopeo'] as const)
    .map((tool) => {
      const mine = runs.filter((each) => each.tool === tool);
      return {
        tool,
        runs: mine.length,
        faults: mine.reduce((sum, each) => sum + each.faults, 0),
        succeeded: mine.filter((each) => each.succeeded).length,
        corrupt: mine.filter((each) => each.corrupt).length,
        unclear: mine.filter((each) => each.unclear).length,
      };
    })
    .filter((row) => row.runs > 0);
  return { runs, rows };
}

/**
 * The table: one row per tool.
 * @internal
 */
export function formatMatrixTable(rows: readonly MatrixRow[]): string {
  const header = ['tool', 'runs', 'faults', 'succeeded', 'corrupt', 'unclear errors'];
  const body = rows.map((row) =>
    [row.tool, row.runs, row.faults, row.succeeded, row.corrupt, row.unclear].map(String),
  );
  const widths = header.map((title, column) =>
    Math.max(title.length, ...body.map((cells) => cells[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...body.map(line),
  ].join('\n');
}
