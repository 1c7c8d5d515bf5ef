import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { node24Availability } from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectResult } from './commands/inspect.js';
import type { ServeResult } from './commands/serve.js';
import { BIN, requireBuiltCli, type ServeProcess, startServe } from './testing/spawn.js';

// How the built `ghcr` executable loads itself, on every Node it supports: the bundle's CommonJS
// copy under the code cache of src/code-cache.ts, one per command. The other end-to-end tests run
// the executable on the Node running the tests (CI: Node 20); these run it under Node 24 as well.

const run = promisify(execFile);
const DIST = dirname(BIN);

let directory: string;
beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), 'ghcr-executable-start-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** Runs the executable under `node` with `env`; returns its stdout (throws on a non-zero exit). */
async function ghcrUnder(node: string, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(node, [BIN, ...argv], {
    env: { PATH: process.env.PATH, HOME: directory, ...env },
  });
  return stdout;
}

/** Each file under `root` (recursively) with its inode and modification time. */
function filesUnder(root: string): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(root)) return files;
  for (const entry of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const stats = statSync(join(root, entry));
    if (stats.isFile()) files.set(entry, `${stats.ino}:${stats.mtimeMs}`);
  }
  return files;
}

describe('the bundle’s CommonJS copy', () => {
  it('has a copy of every file the executable loads, in ASCII', () => {
    const files = readdirSync(DIST);
    const modules = files.filter((file) => file.endsWith('.js') && file !== 'index.js');
    expect(modules).toContain('start.js');
    for (const file of modules) {
      const copy = file.replace(/\.js$/, '.cjs');
      expect(files, `${copy} is missing`).toContain(copy);
      expect(
        readFileSync(join(DIST, copy)).some((byte) => byte > 0x7f),
        `${copy} is not ASCII`,
      ).toBe(false);
    }
  });
});

describe(`the executable on this Node (${process.version})`, () => {
  it('keeps its compiled code between runs, and the second run uses it', async () => {
    const cache = join(directory, 'compile-cache');
    const env = { NODE_COMPILE_CACHE: cache };
    const version = JSON.parse(readFileSync(join(DIST, '..', 'package.json'), 'utf8')) as { version: string };
    expect((await ghcrUnder(process.execPath, ['--version'], env)).trim()).toBe(version.version);
    const first = filesUnder(cache);
    // One cache per file of the copy that the start loaded, start.cjs first among them, in the
    // directory of runs that name no command.
    const names = [...first.keys()];
    expect(names.length).toBeGreaterThan(3);
    expect(
      names.every((name) =>
        /^ghcr-cli-v\d+\.[\d.]+-\w+-[0-9a-f]{16}\/other\/[\w.-]+\.cjs\.v8-cache$/.test(name),
      ),
    ).toBe(true);
    expect(names.some((name) => name.endsWith('/start.cjs.v8-cache'))).toBe(true);
    for (const name of names) {
      const copy = name.slice(name.lastIndexOf('/') + 1, -'.v8-cache'.length);
      expect(existsSync(join(DIST, copy)), `${copy} is not a file of the copy`).toBe(true);
    }
    // The second run reads them: V8 accepted each (a rejected cache is written again, a new file).
    expect((await ghcrUnder(process.execPath, ['--version'], env)).trim()).toBe(version.version);
    expect(filesUnder(cache)).toEqual(first);
  });

  it('keeps a cache per command, and none of a run that failed', async () => {
    const cache = join(directory, 'per-command-cache');
    const env = { NODE_COMPILE_CACHE: cache };
    // A usage error (exit 2): nothing written for `tags`.
    await expect(ghcrUnder(process.execPath, ['tags'], env)).rejects.toThrow();
    expect(filesUnder(cache).size).toBe(0);
    await ghcrUnder(process.execPath, ['tags', '--help'], env);
    await ghcrUnder(process.execPath, ['--version'], env);
    const partitions = new Set([...filesUnder(cache).keys()].map((name) => name.split('/')[1]));
    expect(partitions).toEqual(new Set(['tags', 'other']));
  });

  it('removes the caches of a build unused for a week when it writes its own, and keeps a recent one', async () => {
    const cache = join(directory, 'upgrade-cache');
    const week = 7 * 24 * 60 * 60 * 1000;
    const old = join(cache, 'ghcr-cli-v20.0.0-x64-0000000000000000');
    const recent = join(cache, 'ghcr-cli-v20.0.0-x64-1111111111111111');
    for (const [path, age] of [
      [old, week + 60_000],
      [recent, week - 3_600_000],
    ] as const) {
      mkdirSync(join(path, 'tags'), { recursive: true, mode: 0o700 });
      writeFileSync(join(path, 'tags', 'start.cjs.v8-cache'), 'an older build’s cache');
      const when = new Date(Date.now() - age);
      utimesSync(path, when, when);
    }
    // The first run of this build writes its caches, and removes the old build's.
    await ghcrUnder(process.execPath, ['--version'], { NODE_COMPILE_CACHE: cache });
    const builds = readdirSync(cache).sort();
    expect(builds).toHaveLength(2);
    expect(builds).toContain(basename(recent));
    expect(builds).not.toContain(basename(old));
  });

  it('writes no cache with NODE_DISABLE_COMPILE_CACHE set', async () => {
    const cache = join(directory, 'disabled-cache');
    await ghcrUnder(process.execPath, ['--version'], {
      NODE_COMPILE_CACHE: cache,
      NODE_DISABLE_COMPILE_CACHE: '1',
    });
    expect(filesUnder(cache).size).toBe(0);
  });
});

const node24 = node24Availability();

describeWithBinaries(node24, 'the executable under Node 24 and on this Node, against one ghcr serve', () => {
  let serve: ServeProcess;
  let served: ServeResult;

  beforeAll(async () => {
    // Started on this Node: `serve` loads the simulation's chunk of the copy on demand.
    serve = await startServe(['--port', '0', '--json', '--seed', 'demo'], {
      HOME: directory,
      PATH: process.env.PATH,
      NODE_COMPILE_CACHE: join(directory, 'serve-cache'),
    });
    served = JSON.parse(serve.firstLine) as ServeResult;
  });
  afterAll(async () => {
    if (serve !== undefined && serve.child.exitCode === null) await serve.stop();
  });

  it('lists the same tags and inspects the same image either way', async () => {
    const node = node24.node ?? '';
    const env = {
      NODE_COMPILE_CACHE: join(directory, 'both-cache'),
      DOCKER_AUTH_CONFIG: JSON.stringify({
        auths: {
          [served.registry]: { auth: Buffer.from(`${served.user}:${served.token}`).toString('base64') },
        },
      }),
    };
    const repository = `${served.registry}/octo-org/app`;
    const tagsUnder24 = await ghcrUnder(node, ['tags', repository], env);
    expect(tagsUnder24.trimEnd().split('\n')).toEqual(expect.arrayContaining(['1.0.0', 'latest']));
    expect(await ghcrUnder(process.execPath, ['tags', repository], env)).toBe(tagsUnder24);
    const inspectUnder24 = JSON.parse(
      await ghcrUnder(node, ['inspect', `${repository}:1.0.0`, '--json'], env),
    ) as InspectResult;
    expect(inspectUnder24.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(
      JSON.parse(await ghcrUnder(process.execPath, ['inspect', `${repository}:1.0.0`, '--json'], env)),
    ).toEqual(inspectUnder24);
  });
});
