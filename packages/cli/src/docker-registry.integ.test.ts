import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithBinaries, useDockerRegistry } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AttachResult } from './commands/attach.js';
import type { CopyResult } from './commands/copy.js';
import type { PullResult } from './commands/pull.js';
import type { PushResult } from './commands/push.js';
import type { ReferrersResult } from './commands/referrers.js';
import { LAYOUT_FIXTURE, LAYOUT_INDEX_DIGEST, treeDigests } from './testing/bed.js';
import { ghcr, requireBuiltCli } from './testing/spawn.js';

// push, pull and copy as `ghcr` processes against real registries: Debian's docker-registry
// (CNCF distribution 2.8: no referrers API, anonymous access, plain HTTP on loopback).

describeWithBinaries(['docker-registry'], 'ghcr push, pull and copy against docker-registry', () => {
  let directory: string;
  const first = useDockerRegistry();
  const second = useDockerRegistry();
  let env: Record<string, string | undefined>;

  const json = async <T>(argv: readonly string[]): Promise<T> => {
    const outcome = await ghcr([...argv, '--json'], { env });
    expect(outcome.code, outcome.stderr).toBe(0);
    return JSON.parse(outcome.stdout) as T;
  };

  beforeAll(async () => {
    requireBuiltCli();
    directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-docker-registry-'));
    env = { HOME: directory, DOCKER_CONFIG: join(directory, 'docker'), PATH: process.env.PATH };
  });

  afterAll(async () => {
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('push an OCI image layout and pull it back byte for byte', async () => {
    const pushed = await json<PushResult>(['push', `${first.host}/fx/layout:v1`, LAYOUT_FIXTURE]);
    expect(pushed).toMatchObject({ digest: LAYOUT_INDEX_DIGEST, transferred: 7, skipped: 0 });
    const out = join(directory, 'pulled');
    const pulled = await json<PullResult>(['pull', `${first.host}/fx/layout:v1`, out]);
    expect(pulled).toMatchObject({ digest: LAYOUT_INDEX_DIGEST, names: ['v1'] });
    expect(await treeDigests(out)).toEqual(await treeDigests(LAYOUT_FIXTURE));
  });

  it('copy inside the registry mounts; to another registry it streams', async () => {
    const inside = await json<CopyResult>([
      'copy',
      `${first.host}/fx/layout:v1`,
      `${first.host}/fx/mirror:v1`,
    ]);
    expect(inside).toMatchObject({ digest: LAYOUT_INDEX_DIGEST, bytesTransferred: expect.any(Number) });
    expect(inside.mounted).toBeGreaterThan(0);
    const across = await json<CopyResult>(['copy', `${first.host}/fx/layout:v1`, `${second.host}/fx/layout`]);
    expect(across).toMatchObject({
      digest: LAYOUT_INDEX_DIGEST,
      destination: { registry: second.host, repository: 'fx/layout', tags: ['v1'] },
      mounted: 0,
      transferred: 7,
    });
    const out = join(directory, 'pulled-second');
    await json<PullResult>(['pull', `${second.host}/fx/layout:v1`, out]);
    expect(await treeDigests(out)).toEqual(await treeDigests(LAYOUT_FIXTURE));
  });

  it('copy --referrers re-registers each referrer at the fallback tag of a registry without the API', async () => {
    const note = join(directory, 'note.txt');
    await writeFile(note, 'signed off');
    const attached = await json<AttachResult>([
      'attach',
      `${first.host}/fx/layout:v1`,
      note,
      '--artifact-type',
      'application/vnd.example.note.v1',
    ]);
    const copied = await json<CopyResult>([
      'copy',
      `${first.host}/fx/layout:v1`,
      `${second.host}/fx/signed:v1`,
      '--referrers',
    ]);
    expect(copied.referrers).toEqual([
      expect.objectContaining({
        digest: attached.digest,
        subject: LAYOUT_INDEX_DIGEST,
        registered: 'fallback-tag',
      }),
    ]);
    const listed = await json<ReferrersResult>(['referrers', `${second.host}/fx/signed:v1`]);
    expect(listed.referrers).toEqual([
      expect.objectContaining({ digest: attached.digest, artifactType: 'application/vnd.example.note.v1' }),
    ]);
  });
});
