import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@ghcr/oci-types';
import { build } from 'esbuild';
import { type NamespaceAvailability, namespaceAvailability } from './network-namespace.js';
import type { RealNamesChildConfig } from './real-names-child.js';
import { createTestCertificateAuthority } from './test-certificate-authority.js';
import type { FrontRequest } from './tls-front.js';

/**
 * GitHub's hosts the `ghcr` simulation profile stands in for.
 * @internal
 */
export const GHCR_HOSTS: readonly string[] = [
  'ghcr.io',
  'api.github.com',
  'pkg-containers.githubusercontent.com',
];

/**
 * Docker Hub's hosts: the registry API, the token service, the blob CDN, the names people write
 * (`docker.io`, `index.docker.io`, `registry.hub.docker.com`), which are web hosts, and the web
 * page `docker.io` redirects to (`www.docker.com`).
 * @internal
 */
export const DOCKER_HUB_HOSTS: readonly string[] = [
  'registry-1.docker.io',
  'auth.docker.io',
  'production.cloudflare.docker.com',
  'docker.io',
  'index.docker.io',
  'registry.hub.docker.com',
  'www.docker.com',
];

/**
 * Options of {@link runWithRealNames}.
 * @internal
 */
export interface RealNamesRunOptions {
  /**
   * Absolute path of the scenario module (TypeScript or JavaScript): its default export is a
   * `RealNamesScenario`. It is bundled with the child program (`@ghcr/*` resolve to their `src/`).
   */
  readonly scenario: string;
  /** Handed to the scenario as `context.input` (JSON). If omitted, `null`. */
  readonly input?: unknown;
  /** Simulation profiles to serve on their real names. If omitted, `['ghcr']`. */
  readonly profiles?: readonly string[];
  /** Added to the child's environment (which otherwise holds only `PATH`, `HOME` and `NODE_EXTRA_CA_CERTS`). */
  readonly env?: Readonly<Record<string, string>>;
  /** Whether the child trusts the test CA (`NODE_EXTRA_CA_CERTS`). If omitted, true. */
  readonly trustTestCa?: boolean;
  /** Programs put on the child's `PATH`: name → a JavaScript file run with this Node (e.g. `{ ghcr: '…/dist/bin.cjs' }`). */
  readonly commands?: Readonly<Record<string, string>>;
  /** Values the front looks for in every request header, by label (see {@link secretForms}). If omitted, none. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Files to put in the working directory before the scenario runs: relative path → content. */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
  /** If omitted, {@link namespaceAvailability}(). */
  readonly availability?: NamespaceAvailability;
}

/**
 * What a run produced.
 * @internal
 */
export interface RealNamesRun<Result> {
  /** What the scenario returned. */
  readonly result: Result;
  /** Every request the TLS front received. */
  readonly requests: readonly FrontRequest[];
  /** The child's stderr (diagnostics). */
  readonly stderr: string;
}

const PACKAGES = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./real-names-child.ts', import.meta.url));

/**
 * The forms a secret travels in, to look for in headers: as is, base64 (GHCR's `Bearer
 * base64(PAT)`), and, with a user, base64 of `user:secret` (Basic auth).
 * @internal
 */
export function secretForms(label: string, value: string, user?: string): Record<string, string> {
  return {
    [label]: value,
    [`${label} (base64)`]: Buffer.from(value).toString('base64'),
    ...(user === undefined
      ? {}
      : { [`${label} (basic)`]: Buffer.from(`${user}:${value}`).toString('base64') }),
  };
}

/** Bundles the child program and the scenario into one ES module (workspace packages from their src/). */
async function bundle(scenario: string, outfile: string): Promise<void> {
  await build({
    stdin: {
      contents: [
        `import { runRealNamesChild } from ${JSON.stringify(CHILD)};`,
        `import scenario from ${JSON.stringify(scenario)};`,
        'await runRealNamesChild(scenario);',
      ].join('\n'),
      resolveDir: PACKAGES,
      loader: 'ts',
      sourcefile: 'real-names-entry.ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    sourcemap: 'inline',
    logLevel: 'silent',
    external: ['vitest'],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    plugins: [
      {
        name: 'ghcr-workspace-sources',
        setup(builder) {
          builder.onResolve({ filter: /^@ghcr\/[a-z-]+(\/vitest)?$/ }, (args) => {
            const [, name, sub] = /^@ghcr\/([a-z-]+)(\/vitest)?$/.exec(args.path) ?? [];
            return { path: join(PACKAGES, name ?? '', 'src', sub === undefined ? 'index.ts' : 'vitest.ts') };
          });
        },
      },
    ],
  });
}

function spawnChild(
  argv: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [command, ...args] = argv;
    const child = spawn(command ?? 'unshare', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs a scenario against the simulations served under their real host names (ghcr.io,
 * api.github.com, …) over TLS on port 443, leaving the machine untouched: one child process enters
 * a private mount and network namespace (`unshare --mount --net`), brings up `lo`, bind-mounts a
 * hosts file mapping the names to 127.0.0.1 over `/etc/hosts`, and runs a Node program that starts
 * the servers (certificates from a CA made for the run) and the scenario; commands the scenario
 * runs inherit the namespace. The child's environment is `PATH` (with `commands` first), `HOME`
 * (the run's directory), `NODE_EXTRA_CA_CERTS` (unless `trustTestCa` is false) and `env`.
 * @throws ConfigError when namespaces are not available here; Error when the child or the scenario fails.
 * @internal
 */
export async function runWithRealNames<Result = unknown>(
  options: RealNamesRunOptions,
): Promise<RealNamesRun<Result>> {
  const availability = options.availability ?? namespaceAvailability();
  if (!availability.available) throw new ConfigError(availability.reason);
  const directory = await mkdtemp(join(tmpdir(), 'ghcr-real-names-'));
  try {
    const work = join(directory, 'work');
    const bin = join(directory, 'bin');
    await Promise.all([mkdir(work), mkdir(bin), mkdir(join(directory, 'tls'))]);
    const authority = await createTestCertificateAuthority({
      directory: join(directory, 'tls'),
      names: [...GHCR_HOSTS, ...DOCKER_HUB_HOSTS],
    });
    const hostsPath = join(directory, 'hosts');
    await writeFile(
      hostsPath,
      `127.0.0.1 localhost\n::1 localhost\n127.0.0.1 ${[...GHCR_HOSTS, ...DOCKER_HUB_HOSTS].join(' ')}\n`,
    );
    for (const [name, script] of Object.entries(options.commands ?? {})) {
      await writeFile(
        join(bin, name),
        `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`,
      );
      await chmod(join(bin, name), 0o755);
    }
    for (const [path, content] of Object.entries(options.files ?? {})) {
      await mkdir(join(work, path, '..'), { recursive: true });
      await writeFile(join(work, path), content);
    }
    const program = join(directory, 'real-names-child.mjs');
    await bundle(options.scenario, program);
    const config: RealNamesChildConfig = {
      certificatePath: authority.certificatePath,
      keyPath: authority.keyPath,
      resultPath: join(directory, 'result.json'),
      workDirectory: work,
      profiles: options.profiles ?? ['ghcr'],
      secrets: options.secrets ?? {},
      input: options.input ?? null,
    };
    const configPath = join(directory, 'config.json');
    await writeFile(configPath, JSON.stringify(config));
    const env: Record<string, string> = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
      HOME: directory,
      ...(options.trustTestCa === false ? {} : { NODE_EXTRA_CA_CERTS: authority.caCertificatePath }),
      ...options.env,
    };
    const script = 'ip link set lo up && mount --bind "$0" /etc/hosts && exec "$@"';
    const outcome = await spawnChild(
      [
        ...availability.unshare,
        '--',
        '/bin/sh',
        '-c',
        script,
        hostsPath,
        process.execPath,
        program,
        configPath,
      ],
      env,
    );
    let written: { result?: Result; error?: string; requests?: FrontRequest[] };
    try {
      written = JSON.parse(await readFile(config.resultPath, 'utf8')) as typeof written;
    } catch {
      throw new Error(
        `the real-names child wrote no result (exit ${outcome.code}): ${outcome.stderr.trim()}`,
      );
    }
    if (written.error !== undefined)
      throw new Error(`the scenario failed in the namespace: ${written.error}`);
    return { result: written.result as Result, requests: written.requests ?? [], stderr: outcome.stderr };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
