import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServeResult } from './commands/serve.js';
import { ghcr, startServe } from './testing/spawn.js';

// Packaging: what `pnpm pack` makes (what `changeset publish` publishes) installs into an empty
// folder with npm, and `npx ghcr --help` works from there; the tarballs carry their LICENSE, no
// `workspace:` range and no source map of a bundled dependency; `@ghcr/cli` alone installs nothing
// else (its bundle holds what it runs, msw and the simulation for `ghcr serve` included). Slow
// (pnpm, then npm fetching the third-party dependencies from the registry), hence an integration test.

const PACKAGES = ['oci-types', 'manifest', 'auth', 'transport', 'client', 'simulation', 'cli'] as const;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PNPM = 'pnpm@10.34.9';

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without the npm/pnpm settings of the runner that started vitest (pnpm test). */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|pnpm_|PNPM_)/i.test(name)),
  );
}

function exec(command: string, args: readonly string[], cwd: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
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

describe('the packed packages', () => {
  let directory: string;
  let tarballs: string;
  let app: string;

  beforeAll(async () => {
    for (const name of PACKAGES) {
      if (!existsSync(join(ROOT, 'packages', name, 'dist'))) {
        throw new Error(
          `packages/${name}/dist is missing: build first (npx -y ${PNPM} exec turbo run build --filter=@ghcr/cli...)`,
        );
      }
    }
    directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-packaging-'));
    tarballs = join(directory, 'tarballs');
    app = join(directory, 'app');
    await mkdir(tarballs);
    await mkdir(app);
    for (const name of PACKAGES) {
      const packed = await exec(
        'npx',
        ['-y', PNPM, 'pack', '--pack-destination', tarballs],
        join(ROOT, 'packages', name),
      );
      if (packed.code !== 0) throw new Error(`pnpm pack in packages/${name}: ${packed.stderr}`);
    }
  }, 600_000);

  /** The tarball `pnpm pack` made of packages/<name> (ghcr-<name>-<version>.tgz). */
  async function tarballOf(name: (typeof PACKAGES)[number]): Promise<string> {
    const prefix = `ghcr-${name}-`;
    const file = (await readdir(tarballs)).find(
      (entry) => entry.startsWith(prefix) && /^\d.*\.tgz$/.test(entry.slice(prefix.length)),
    );
    if (file === undefined) throw new Error(`no tarball of @ghcr/${name} in ${tarballs}`);
    return join(tarballs, file);
  }

  afterAll(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('each tarball has its LICENSE, no workspace: range and no source map of a dependency', async () => {
    for (const name of PACKAGES) {
      const unpacked = join(directory, 'unpacked', name);
      await mkdir(unpacked, { recursive: true });
      const extracted = await exec('tar', ['-xzf', await tarballOf(name)], unpacked);
      expect(extracted.code, extracted.stderr).toBe(0);
      const root = join(unpacked, 'package');
      expect(existsSync(join(root, 'LICENSE')), `@ghcr/${name} has no LICENSE`).toBe(true);
      expect(await readFile(join(root, 'package.json'), 'utf8'), `@ghcr/${name}`).not.toContain('workspace:');
      const maps = (await readdir(root, { recursive: true })).filter((file) => file.endsWith('.map'));
      for (const map of maps) {
        const { sources } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[] };
        const foreign = sources.filter((source) => source.includes('node_modules/'));
        expect(foreign, `@ghcr/${name}/${map} maps bundled dependencies`).toEqual([]);
      }
      // The executable is a bundle: a map of it would be a map of its dependencies.
      if (name === 'cli') expect(maps).toEqual([]);
    }
  });

  it('@ghcr/cli alone installs nothing else, and serve, tags, sync, sign and verify run from it', {
    timeout: 600_000,
  }, async () => {
    const alone = join(directory, 'alone');
    await mkdir(alone);
    await writeFile(
      join(alone, 'package.json'),
      JSON.stringify({ name: 'cli-alone', version: '1.0.0', private: true }),
    );
    const installed = await exec(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error', await tarballOf('cli')],
      alone,
    );
    expect(installed.code, `npm install: ${installed.stderr}`).toBe(0);
    // What `npm i -g @ghcr/cli` installs: the one package (no msw, graphql, tough-cookie, zod…).
    const modules = (await readdir(join(alone, 'node_modules'))).filter((entry) => !entry.startsWith('.'));
    expect(modules).toEqual(['@ghcr']);
    expect(await readdir(join(alone, 'node_modules/@ghcr'))).toEqual(['cli']);

    const bin = join(alone, 'node_modules/@ghcr/cli/dist/bin.cjs');
    const home = join(directory, 'home');
    await mkdir(home);
    const env = { HOME: home, DOCKER_CONFIG: join(home, 'docker'), PATH: process.env.PATH };
    const serve = await startServe(['--port', '0', '--json', '--seed', 'demo'], env, bin);
    try {
      const served = JSON.parse(serve.firstLine) as ServeResult;
      const login = await ghcr(['login', served.registry, '-u', served.user, '--password-stdin'], {
        env,
        bin,
        stdin: `${served.token}\n`,
      });
      expect(login.code, login.stderr).toBe(0);
      const tags = await ghcr(['tags', `${served.registry}/octo-org/app`], { env, bin });
      expect(tags.stderr).toBe('');
      expect(tags.code).toBe(0);
      expect(tags.stdout.trimEnd().split('\n')).toEqual(expect.arrayContaining(['1.0.0', 'latest']));

      // Commands whose dependencies the bundle loads on first use (build/bundle-plugins.mjs):
      // sync's YAML and semver, and signing and verifying with a key (Sigstore's code).
      const config = join(home, 'mirrors.yml');
      await writeFile(
        config,
        `sync:\n  - source: ${served.registry}/octo-org/app\n    target: ${served.registry}/octo-org/mirror\n    tags: { semver: '>=1 <2' }\n`,
      );
      const sync = await ghcr(['sync', config, '--dry-run'], { env, bin });
      expect(sync.code, sync.stderr).toBe(0);
      expect(sync.stdout).toContain(`${served.registry}/octo-org/mirror:1.0.0`);
      expect(sync.stdout).not.toContain('mirror:latest');
      const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      await writeFile(join(home, 'cosign.key'), keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      await writeFile(join(home, 'cosign.pub'), keys.publicKey.export({ type: 'spki', format: 'pem' }));
      const image = `${served.registry}/octo-org/app:1.0.0`;
      const signed = await ghcr(['sign', image, '--key', join(home, 'cosign.key')], { env, bin });
      expect(signed.code, signed.stderr).toBe(0);
      const verified = await ghcr(['verify', image, '--key', join(home, 'cosign.pub'), '--json'], {
        env,
        bin,
      });
      expect(verified.code, verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ verified: true });
    } finally {
      await serve.stop();
    }
  });

  it('pack, install into an empty folder, and run npx ghcr --help', { timeout: 600_000 }, async () => {
    const files = (await readdir(tarballs)).filter((file) => file.endsWith('.tgz')).sort();
    expect(files).toHaveLength(PACKAGES.length);

    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'try-ghcr', version: '1.0.0', private: true }),
    );
    const installed = await exec(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...files.map((file) => join(tarballs, file)),
      ],
      app,
    );
    expect(installed.code, `npm install: ${installed.stderr}`).toBe(0);
    // The cli's bundle needs nothing installed; the library packages are optional peers (their
    // types, for a program that calls run()), with the workspace ranges replaced by real versions,
    // which the tarballs satisfied: one copy each.
    const cli = JSON.parse(await readFile(join(app, 'node_modules/@ghcr/cli/package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(cli.dependencies).toBeUndefined();
    expect(Object.keys(cli.peerDependencies).sort()).toEqual([
      '@ghcr/auth',
      '@ghcr/client',
      '@ghcr/manifest',
      '@ghcr/oci-types',
    ]);
    expect(Object.values(cli.peerDependencies).some((range) => range.startsWith('workspace:'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/@ghcr/cli/node_modules/@ghcr'))).toBe(false);
    // Every published package carries its licence and names no workspace: range anywhere.
    for (const name of PACKAGES) {
      const installedAt = join(app, 'node_modules/@ghcr', name);
      expect(existsSync(join(installedAt, 'LICENSE')), `@ghcr/${name} has no LICENSE`).toBe(true);
      const manifest = await readFile(join(installedAt, 'package.json'), 'utf8');
      expect(manifest, `@ghcr/${name}'s package.json`).not.toContain('workspace:');
    }

    const help = await exec('npx', ['ghcr', '--help'], app);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: ghcr [options] [command]');
    for (const command of ['push', 'pull', 'copy', 'cleanup', 'gate', 'serve']) {
      expect(help.stdout).toMatch(new RegExp(`\\n  ${command} `));
    }
    const version = await exec('npx', ['ghcr', '--version'], app);
    expect(version.code).toBe(0);
    const own = JSON.parse(await readFile(join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(version.stdout.trim()).toBe(own.version);
  });
});
