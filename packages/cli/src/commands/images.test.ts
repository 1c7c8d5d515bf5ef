import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referrersTagFor } from '@ghcr/manifest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bed,
  LAYOUT_FIXTURE,
  LAYOUT_INDEX_DIGEST,
  sha256,
  sharedLogin,
  startBed,
  treeDigests,
} from '../testing/bed.js';
import { runCli } from '../testing/io.js';
import type { AttachResult } from './attach.js';
import type { CopyResult } from './copy.js';
import type { IndexCreateResult } from './index.js';
import type { InspectResult } from './inspect.js';
import type { PullResult } from './pull.js';
import type { PushResult } from './push.js';
import type { ReferrersResult } from './referrers.js';

// In-process runs of push, pull, copy, inspect, index create, referrers and attach against served
// simulations: the ghcr profile (no referrers API, no DELETE) and the distribution profile.

let directory: string;
let ghcr: Bed;
let distribution: Bed;
let both: Record<string, string | undefined>;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-images-'));
  ghcr = await startBed(directory, 'ghcr');
  distribution = await startBed(directory, 'distribution');
  both = await sharedLogin(directory, [ghcr, distribution]);
});

afterAll(async () => {
  await ghcr?.server.close();
  await distribution?.server.close();
  await rm(directory, { recursive: true, force: true });
});

const SBOM_TEXT = '{"spdxVersion":"SPDX-2.3"}';
const README = join(LAYOUT_FIXTURE, '..', 'README.md');

const usage = (stderr: string): void => {
  expect(stderr).toMatch(/^error: GHCR_USAGE: [^\n]+\n$/);
};

describe('ghcr push', () => {
  it('--json pushes an OCI image layout: its index digest, the tag, what moved', async () => {
    const outcome = await runCli(['push', `${ghcr.registry}/octo-org/layout:v1`, LAYOUT_FIXTURE, '--json'], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    const result = JSON.parse(outcome.stdout) as PushResult;
    expect(result).toEqual({
      registry: ghcr.registry,
      repository: 'octo-org/layout',
      tags: ['v1'],
      digest: LAYOUT_INDEX_DIGEST,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: 571,
      kind: 'image',
      source: { layout: LAYOUT_FIXTURE },
      transferred: 7,
      mounted: 0,
      skipped: 0,
      bytesTransferred: expect.any(Number),
    });
    expect(result.bytesTransferred).toBeGreaterThan(571);
    // Again: the registry has the index, so nothing moves.
    const again = await runCli(
      ['push', `${ghcr.registry}/octo-org/layout:v1`, `${LAYOUT_FIXTURE}:v1`, '--json'],
      {
        env: ghcr.env,
      },
    );
    expect(JSON.parse(again.stdout)).toMatchObject({
      digest: LAYOUT_INDEX_DIGEST,
      source: { layout: LAYOUT_FIXTURE, name: 'v1' },
      transferred: 0,
      skipped: 1,
    });
  });

  it('prints the pushed reference, and a note of what moved on stderr', async () => {
    const outcome = await runCli(['push', `${ghcr.registry}/octo-org/layout`, LAYOUT_FIXTURE], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe(`${ghcr.registry}/octo-org/layout:latest@${LAYOUT_INDEX_DIGEST}\n`);
    expect(outcome.stderr).toBe('pushed: transferred 0 items (0 B), 1 already there\n');
  });

  it('pushes files as an artifact with --artifact-type and --annotation', async () => {
    const file = join(directory, 'config.yaml');
    await writeFile(file, 'replicas: 3\n');
    const outcome = await runCli(
      [
        'push',
        `${ghcr.registry}/octo-org/settings:1`,
        `${file}:application/yaml`,
        '--artifact-type',
        'application/vnd.example.settings.v1',
        '--annotation',
        'org.opencontainers.image.description=settings',
        '--json',
      ],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as PushResult;
    expect(result).toMatchObject({
      kind: 'artifact',
      artifactType: 'application/vnd.example.settings.v1',
      source: { files: [file] },
      tags: ['1'],
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    const inspect = await runCli(['inspect', `${ghcr.registry}/octo-org/settings:1`, '--json'], {
      env: ghcr.env,
    });
    const described = JSON.parse(inspect.stdout) as InspectResult;
    expect(described.digest).toBe(result.digest);
    expect(described.artifactType).toBe('application/vnd.example.settings.v1');
    expect(described.annotations).toMatchObject({ 'org.opencontainers.image.description': 'settings' });
    expect(described.layers).toEqual([
      expect.objectContaining({
        mediaType: 'application/yaml',
        size: 12,
        annotations: { 'org.opencontainers.image.title': 'config.yaml' },
      }),
    ]);
  });

  it('draws progress bars on a terminal, and none otherwise', async () => {
    const file = join(directory, 'blob.bin');
    await writeFile(file, Buffer.alloc(64 * 1024, 7));
    const argv = [
      'push',
      `${ghcr.registry}/octo-org/progress:1`,
      file,
      '--artifact-type',
      'application/x-test',
    ];
    const tty = await runCli(argv, { env: ghcr.env, isTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stderr).toContain('push ');
    expect(tty.stderr).toContain('100%');
    expect(tty.stderr).toContain('64 KiB/64 KiB');
    const pipe = await runCli(
      [...argv.slice(0, 1), `${ghcr.registry}/octo-org/progress:2`, ...argv.slice(2)],
      {
        env: ghcr.env,
      },
    );
    expect(pipe.code).toBe(0);
    expect(pipe.stderr).not.toContain('%');
  });

  it.each([
    ['a missing path', ':1', ['nothing-here', '--artifact-type', 'x/y'], /no such file or directory/],
    ['files without --artifact-type', ':1', [README], /needs --artifact-type/],
    ['a digest to push to', `@sha256:${'a'.repeat(64)}`, [LAYOUT_FIXTURE], /not a digest/],
    ['two layouts', ':1', [LAYOUT_FIXTURE, LAYOUT_FIXTURE], /one OCI image layout directory/],
    ['a directory that is no layout', ':1', [join(LAYOUT_FIXTURE, 'blobs')], /not an OCI image layout/],
    [
      '--annotation on a layout',
      ':1',
      [LAYOUT_FIXTURE, '--annotation', 'a=b'],
      /an image layout is pushed as it is/,
    ],
    [
      'an annotation without =',
      ':1',
      [README, '--artifact-type', 'x/y', '--annotation', 'ab'],
      /is not key=value/,
    ],
  ])('usage error (%s) exits 2', async (_name, suffix, rest, message) => {
    const outcome = await runCli(['push', `${ghcr.registry}/octo-org/x${suffix}`, ...rest], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(2);
    usage(outcome.stderr);
    expect(outcome.stderr).toMatch(message);
    expect(outcome.stdout).toBe('');
  });
});

describe('ghcr pull', () => {
  beforeAll(async () => {
    await runCli(['push', `${ghcr.registry}/octo-org/pulled:v1`, LAYOUT_FIXTURE], { env: ghcr.env });
  });

  it('--json pulls the whole index into a layout identical to the one pushed', async () => {
    const out = join(directory, 'pulled-all');
    const outcome = await runCli(['pull', `${ghcr.registry}/octo-org/pulled:v1`, out, '--json'], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({
      registry: ghcr.registry,
      repository: 'octo-org/pulled',
      reference: 'v1',
      digest: LAYOUT_INDEX_DIGEST,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: 571,
      directory: out,
      names: ['v1'],
      transferred: 7,
      mounted: 0,
      skipped: 0,
      bytesTransferred: expect.any(Number),
    } satisfies PullResult);
    expect(await treeDigests(out)).toEqual(await treeDigests(LAYOUT_FIXTURE));
  });

  it('--platform pulls one platform’s manifest', async () => {
    const out = join(directory, 'pulled-arm');
    const outcome = await runCli(
      ['pull', `${ghcr.registry}/octo-org/pulled:v1`, out, '--platform', 'linux/arm64', '--json'],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as PullResult;
    expect(result.platform).toBe('linux/arm64');
    expect(result.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(result.digest).toBe('sha256:95c94f9c69f66c4b72ca1447c9cbc45ae9a78b76665904d72d8b96e63554ca5b');
    // oci-layout, index.json, and the manifest, its config and two layers.
    expect(Object.keys(await treeDigests(out))).toHaveLength(2 + 4);
  });

  it('prints where it pulled to', async () => {
    const out = join(directory, 'pulled-text');
    const outcome = await runCli(['pull', `${ghcr.registry}/octo-org/pulled:v1`, out], { env: ghcr.env });
    expect(outcome.stdout).toBe(
      `pulled ${ghcr.registry}/octo-org/pulled:v1@${LAYOUT_INDEX_DIGEST} to ${out}\n`,
    );
  });

  it('--platform with --all-platforms is a usage error; a missing image fails with exit 1', async () => {
    const both = await runCli(
      [
        'pull',
        `${ghcr.registry}/octo-org/pulled:v1`,
        directory,
        '--platform',
        'linux/amd64',
        '--all-platforms',
      ],
      { env: ghcr.env },
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(
      /^error: GHCR_USAGE: option '--all-platforms' cannot be used with option '--platform/,
    );
    const badPlatform = await runCli(
      ['pull', `${ghcr.registry}/octo-org/pulled:v1`, directory, '--platform', 'linux'],
      { env: ghcr.env },
    );
    expect(badPlatform.code).toBe(2);
    const missing = await runCli(['pull', `${ghcr.registry}/octo-org/pulled:nope`, join(directory, 'nope')], {
      env: ghcr.env,
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: MANIFEST_UNKNOWN: /);
  });
});

describe('ghcr copy', () => {
  it('inside one registry mounts the blobs; the destination tag defaults to the source’s', async () => {
    const outcome = await runCli(
      ['copy', `${ghcr.registry}/octo-org/app:1.0.0`, `${ghcr.registry}/octo-org/mirror`, '--json'],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as CopyResult;
    expect(result).toEqual({
      source: { registry: ghcr.registry, repository: 'octo-org/app', reference: '1.0.0' },
      destination: { registry: ghcr.registry, repository: 'octo-org/mirror', tags: ['1.0.0'] },
      digest: ghcr.seed.app.releases[0]?.index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: ghcr.seed.app.releases[0]?.index.parsed.size,
      transferred: expect.any(Number),
      mounted: expect.any(Number),
      skipped: 0,
      bytesTransferred: expect.any(Number),
    });
    expect(result.mounted).toBeGreaterThan(0);
  });

  it('to another registry streams every blob, with two clients', async () => {
    const outcome = await runCli(
      [
        'copy',
        `${ghcr.registry}/octo-org/app:1.0.0`,
        `${distribution.registry}/octo-org/copied:one`,
        '--platform',
        'linux/amd64',
        '--json',
      ],
      { env: both },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as CopyResult;
    expect(result).toMatchObject({
      destination: { registry: distribution.registry, repository: 'octo-org/copied', tags: ['one'] },
      digest: ghcr.seed.app.releases[0]?.platforms[0]?.digest,
      platform: 'linux/amd64',
      mounted: 0,
    });
    expect(result.transferred).toBeGreaterThanOrEqual(3);
    const inspect = await runCli(['inspect', `${distribution.registry}/octo-org/copied:one`, '--json'], {
      env: both,
    });
    expect((JSON.parse(inspect.stdout) as InspectResult).digest).toBe(result.digest);
  });

  it('--referrers to a registry without the referrers API records each one where it is looked for', async () => {
    const latest = ghcr.seed.app.releases[ghcr.seed.app.releases.length - 1];
    const outcome = await runCli(
      [
        'copy',
        `${ghcr.registry}/octo-org/app:latest`,
        `${ghcr.registry}/octo-org/signed`,
        '--referrers',
        '--json',
      ],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as CopyResult;
    expect(result.digest).toBe(latest?.index.digest);
    const byDigest = new Map(result.referrers?.map((referrer) => [referrer.digest, referrer]));
    expect(byDigest.get(ghcr.seed.app.bundle.digest)).toMatchObject({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      subject: latest?.index.digest,
      registered: 'fallback-tag',
    });
    expect(byDigest.get(ghcr.seed.app.cosignSignature.digest)).toMatchObject({ registered: 'cosign-tag' });
    expect(byDigest.get(ghcr.seed.app.cosignAttestation.digest)).toMatchObject({ registered: 'cosign-tag' });
    const listed = await runCli(['referrers', `${ghcr.registry}/octo-org/signed:latest`, '--json'], {
      env: ghcr.env,
    });
    const referrers = (JSON.parse(listed.stdout) as ReferrersResult).referrers.map((entry) => entry.digest);
    expect(referrers.sort()).toEqual(
      [
        ghcr.seed.app.bundle.digest,
        ghcr.seed.app.cosignSignature.digest,
        ghcr.seed.app.cosignAttestation.digest,
      ].sort(),
    );
    const tags = await runCli(['tags', `${ghcr.registry}/octo-org/signed`], { env: ghcr.env });
    expect(tags.stdout).toContain(`${referrersTagFor(latest?.index.digest ?? '')}\n`);
  });

  it('--referrers to a registry with the referrers API leaves the listing to it', async () => {
    const outcome = await runCli(
      [
        'copy',
        `${ghcr.registry}/octo-org/app:latest`,
        `${distribution.registry}/octo-org/signed:latest`,
        '--referrers',
        '--json',
      ],
      { env: both },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as CopyResult;
    expect(
      result.referrers?.find((referrer) => referrer.digest === ghcr.seed.app.bundle.digest)?.registered,
    ).toBe('api');
    const listed = await runCli(['referrers', `${distribution.registry}/octo-org/signed:latest`, '--json'], {
      env: both,
    });
    expect((JSON.parse(listed.stdout) as ReferrersResult).referrers.map((entry) => entry.digest)).toContain(
      ghcr.seed.app.bundle.digest,
    );
    const fallback = await runCli(
      ['inspect', `${distribution.registry}/octo-org/signed:${referrersTagFor(result.digest)}`],
      { env: both },
    );
    expect(fallback.code).toBe(1);
  });

  it('a destination digest is a usage error', async () => {
    const outcome = await runCli(
      ['copy', `${ghcr.registry}/octo-org/app:1.0.0`, `${ghcr.registry}/octo-org/x@sha256:${'b'.repeat(64)}`],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(2);
    usage(outcome.stderr);
  });
});

describe('ghcr inspect (whole images)', () => {
  it('reports the bytes a pull moves, for an index and for one platform', async () => {
    await runCli(['push', `${ghcr.registry}/octo-org/sized:v1`, LAYOUT_FIXTURE], { env: ghcr.env });
    const index = JSON.parse(
      (await runCli(['inspect', `${ghcr.registry}/octo-org/sized:v1`, '--json'], { env: ghcr.env })).stdout,
    ) as InspectResult;
    const pushed = JSON.parse(
      (
        await runCli(['push', `${ghcr.registry}/octo-org/sized2:v1`, LAYOUT_FIXTURE, '--json'], {
          env: ghcr.env,
        })
      ).stdout,
    ) as PushResult;
    // A fresh push moves every distinct manifest and blob once: what a pull moves.
    expect(index.pullSize).toBe(pushed.bytesTransferred);
    const arm = JSON.parse(
      (
        await runCli(
          ['inspect', `${ghcr.registry}/octo-org/sized:v1`, '--platform', 'linux/arm64', '--json'],
          {
            env: ghcr.env,
          },
        )
      ).stdout,
    ) as InspectResult;
    expect(arm.pullSize).toBe(arm.size + (arm.totalSize ?? 0));
    expect(arm.created).toBe('2026-01-01T00:00:00Z');
  });
});

describe('ghcr index create', () => {
  it('--json builds an index of platform images, their platforms read from their configs', async () => {
    const release = ghcr.seed.app.releases[0];
    const [amd, arm] = release?.platforms ?? [];
    const outcome = await runCli(
      [
        'index',
        'create',
        `${ghcr.registry}/octo-org/app:combined`,
        amd?.digest ?? '',
        `@${arm?.digest}`,
        '--annotation',
        'org.opencontainers.image.description=combined',
        '--json',
      ],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as IndexCreateResult;
    expect(result).toEqual({
      registry: ghcr.registry,
      repository: 'octo-org/app',
      tags: ['combined'],
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: expect.any(Number),
      manifests: [
        {
          digest: amd?.digest,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: amd?.parsed.size,
          platform: 'linux/amd64',
        },
        {
          digest: arm?.digest,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: arm?.parsed.size,
          platform: 'linux/arm64/v8',
        },
      ],
    });
    const inspect = JSON.parse(
      (await runCli(['inspect', `${ghcr.registry}/octo-org/app:combined`, '--json'], { env: ghcr.env }))
        .stdout,
    ) as InspectResult;
    expect(inspect.digest).toBe(result.digest);
    expect(inspect.annotations).toEqual({ 'org.opencontainers.image.description': 'combined' });
  });

  it('--format docker makes a manifest list; a full reference in the repository works', async () => {
    const amd = ghcr.seed.app.releases[0]?.platforms[0];
    const outcome = await runCli(
      [
        'index',
        'create',
        `${ghcr.registry}/octo-org/app:list`,
        `${ghcr.registry}/octo-org/app@${amd?.digest}`,
        '--format',
        'docker',
      ],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(
      new RegExp(`^${ghcr.registry}/octo-org/app:list@sha256:[0-9a-f]{64}\\n  linux/amd64 `),
    );
  });

  it.each([
    [
      ['a manifest of another repository'],
      ['octo-org/app:list2', 'REG/octo-org/many:v1'],
      /copy it there first/,
    ],
    [['a digest'], [`octo-org/app@sha256:${'c'.repeat(64)}`, 'v1'], /not a digest/],
    [
      ['annotations on a manifest list'],
      ['octo-org/app:l', 'v1', '--format', 'docker', '--annotation', 'a=b'],
      /no annotations/,
    ],
  ])('usage error (%s) exits 2', async (_name, args, message) => {
    const [ref = '', ...rest] = args;
    const outcome = await runCli(
      ['index', 'create', `${ghcr.registry}/${ref}`, ...rest.map((arg) => arg.replace('REG', ghcr.registry))],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(2);
    usage(outcome.stderr);
    expect(outcome.stderr).toMatch(message);
  });
});

describe('ghcr attach and ghcr referrers', () => {
  it('attach --json pushes an artifact whose subject is the image; referrers lists it, filtered by type', async () => {
    const sbom = join(directory, 'sbom.spdx.json');
    await writeFile(sbom, SBOM_TEXT);
    const subject = ghcr.seed.hello.image;
    const outcome = await runCli(
      [
        'attach',
        `${ghcr.registry}/octocat/hello:latest`,
        `${sbom}:application/spdx+json`,
        '--artifact-type',
        'application/spdx+json',
        '--annotation',
        'org.example.kind=sbom',
        '--json',
      ],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as AttachResult;
    expect(result).toEqual({
      registry: ghcr.registry,
      repository: 'octocat/hello',
      subject: { digest: subject.digest, mediaType: subject.parsed.mediaType, size: subject.parsed.size },
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: expect.any(Number),
      artifactType: 'application/spdx+json',
      annotations: { 'org.example.kind': 'sbom' },
      files: [
        {
          path: sbom,
          digest: sha256(SBOM_TEXT),
          mediaType: 'application/spdx+json',
          size: Buffer.byteLength(SBOM_TEXT),
        },
      ],
    });
    const listed = await runCli(['referrers', `${ghcr.registry}/octocat/hello:latest`, '--json'], {
      env: ghcr.env,
    });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual({
      registry: ghcr.registry,
      repository: 'octocat/hello',
      subject: result.subject,
      referrers: [
        {
          digest: result.digest,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: result.size,
          artifactType: 'application/spdx+json',
          annotations: { 'org.example.kind': 'sbom' },
        },
      ],
    } satisfies ReferrersResult);
    const other = await runCli(
      [
        'referrers',
        `${ghcr.registry}/octocat/hello:latest`,
        '--artifact-type',
        'application/x-other',
        '--json',
      ],
      { env: ghcr.env },
    );
    expect(JSON.parse(other.stdout)).toMatchObject({ artifactType: 'application/x-other', referrers: [] });
    const text = await runCli(['referrers', `${ghcr.registry}/octocat/hello:latest`], { env: ghcr.env });
    expect(text.stdout).toBe(`${result.digest}  application/spdx+json  ${result.size} B\n`);
  });

  it('attach needs --artifact-type and files; referrers of a missing image fail with exit 1', async () => {
    const noType = await runCli(['attach', `${ghcr.registry}/octocat/hello:latest`, LAYOUT_FIXTURE], {
      env: ghcr.env,
    });
    expect(noType.code).toBe(2);
    expect(noType.stderr).toMatch(
      /^error: GHCR_USAGE: required option '--artifact-type <type>' not specified/,
    );
    const directoryFile = await runCli(
      ['attach', `${ghcr.registry}/octocat/hello:latest`, LAYOUT_FIXTURE, '--artifact-type', 'x/y'],
      { env: ghcr.env },
    );
    expect(directoryFile.code).toBe(2);
    expect(directoryFile.stderr).toMatch(/is a directory; attach takes files/);
    const missing = await runCli(['referrers', `${ghcr.registry}/octocat/hello:nope`], { env: ghcr.env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: MANIFEST_UNKNOWN: .*hello:nope does not exist\. /);
  });
});
