import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PullResult } from './commands/pull.js';
import type { PushResult } from './commands/push.js';
import type { ServeResult } from './commands/serve.js';
import { LAYOUT_FIXTURE } from './testing/bed.js';
import { ghcr, requireBuiltCli, type ServeProcess, startServe } from './testing/spawn.js';

// End to end: `ghcr push` from and `ghcr pull` to docker-archive and oci-archive files (issue 15),
// as separate `ghcr` processes against `ghcr serve`.

const FIXTURE = resolve(__dirname, '../../../fixtures/docker-archive-amd64.tar');
let directory: string;
let serve: ServeProcess;
let served: ServeResult;
let env: Record<string, string | undefined>;

async function json<T>(argv: readonly string[]): Promise<T> {
  const outcome = await ghcr([...argv, '--json'], { env });
  expect(outcome.code, outcome.stderr).toBe(0);
  return JSON.parse(outcome.stdout) as T;
}

beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-e2e-archives-'));
  env = { HOME: directory, DOCKER_CONFIG: join(directory, 'docker'), PATH: process.env.PATH };
  serve = await startServe(['--port', '0', '--json'], { HOME: directory, PATH: process.env.PATH });
  served = JSON.parse(serve.firstLine) as ServeResult;
  const login = await ghcr(['login', served.registry, '-u', served.user, '--password-stdin'], {
    env,
    stdin: served.token,
  });
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  if (serve !== undefined && serve.child.exitCode === null) await serve.stop('SIGKILL');
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});

describe('archives', () => {
  it('push a docker-archive, pull it to both formats, push those back', async () => {
    const ref = `${served.registry}/octo-org/archive`;
    const pushed = await json<PushResult>(['push', `${ref}:v1`, `docker-archive:${FIXTURE}`]);
    expect(pushed).toMatchObject({
      kind: 'image',
      tags: ['v1'],
      source: { archive: FIXTURE, format: 'docker-archive' },
    });
    expect(pushed.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');

    const dockerOut = join(directory, 'out.tar');
    const pulled = await json<PullResult>(['pull', `${ref}:v1`, dockerOut]);
    expect(pulled).toMatchObject({ directory: dockerOut, format: 'docker-archive', digest: pushed.digest });
    // A plain .tar is detected by content: its layers are the registry's gzip blobs, pushed as they are.
    const again = await json<PushResult>(['push', `${ref}:again`, dockerOut]);
    expect(again.digest).toBe(pushed.digest);
    // Kept uncompressed, the fixture's layers are OCI tar layers (digest = diff_id).
    const raw = await json<PushResult>(['push', `${ref}:raw`, FIXTURE, '--keep-uncompressed']);
    expect(raw.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');

    const ociOut = join(directory, 'out.oci.tar');
    const asOci = await json<PullResult>(['pull', `${ref}:v1`, ociOut]);
    expect(asOci).toMatchObject({ format: 'oci-archive', digest: pushed.digest });
    const back = await json<PushResult>(['push', `${ref}:back`, `oci-archive:${ociOut}`]);
    expect(back.digest).toBe(pushed.digest);
    expect((await readdir(directory)).filter((name) => name.includes('ghcr-tmp'))).toEqual([]);
  });

  it('several images and no choice is a usage error that lists them; @INDEX picks one', async () => {
    const tree = join(directory, 'two');
    await mkdir(tree, { recursive: true });
    await writeFile(
      join(tree, 'manifest.json'),
      JSON.stringify([
        { Config: 'a.json', RepoTags: ['app:1'], Layers: [] },
        { Config: 'b.json', RepoTags: ['other:2'], Layers: [] },
      ]),
    );
    await writeFile(join(tree, 'a.json'), JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));
    await writeFile(join(tree, 'b.json'), JSON.stringify({ rootfs: { type: 'layers', diff_ids: [] } }));
    const path = join(directory, 'two.tar');
    await promisify(execFile)('tar', ['-cf', path, '-C', tree, '.']);
    const outcome = await ghcr(['push', `${served.registry}/octo-org/two:v1`, path], { env });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/holds 2 images.*@0 \(app:1\); @1 \(other:2\)/);
    const chosen = await json<PushResult>(['push', `${served.registry}/octo-org/two:v1`, `${path}:@1`]);
    expect(chosen.source).toEqual({ archive: path, image: '@1' });
  });

  it('a multi-platform index to a docker-archive needs --platform, and leaves no file', async () => {
    const ref = `${served.registry}/octo-org/multi:v1`;
    await json<PushResult>(['push', ref, LAYOUT_FIXTURE]);
    const out = join(directory, 'multi.tar');
    const outcome = await ghcr(['pull', ref, out], { env });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('choose one platform');
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    const pulled = await json<PullResult>(['pull', ref, out, '--platform', 'linux/amd64']);
    expect(pulled).toMatchObject({ format: 'docker-archive', platform: 'linux/amd64' });
    expect((await stat(out)).size).toBeGreaterThan(0);
  });
});
