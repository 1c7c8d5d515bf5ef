import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Packaging: what `pnpm -r pack` makes installs into an empty folder with npm, and `npx ghcr --help`
// works from there. Slow (pnpm, then npm fetching the third-party dependencies from the registry),
// hence an integration test.

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
  });

  afterAll(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('pack, install into an empty folder, and run npx ghcr --help', { timeout: 600_000 }, async () => {
    for (const name of PACKAGES) {
      const packed = await exec(
        'npx',
        ['-y', PNPM, 'pack', '--pack-destination', tarballs],
        join(ROOT, 'packages', name),
      );
      expect(packed.code, `pnpm pack in packages/${name}: ${packed.stderr}`).toBe(0);
    }
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
    // The workspace versions were replaced by real ones, and the tarballs satisfied them: one copy each.
    const cli = JSON.parse(await readFile(join(app, 'node_modules/@ghcr/cli/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.values(cli.dependencies).some((range) => range.startsWith('workspace:'))).toBe(false);
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
