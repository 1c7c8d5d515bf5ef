import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bed, startBed, TRIVY_ARTIFACT_TYPE, TRIVY_REPORT } from '../testing/bed.js';
import { runCli } from '../testing/io.js';
import type { CleanupResult } from './cleanup.js';
import type { GateResult } from './gate.js';
import type { VersionChangeResult, VersionsListResult } from './versions.js';

// In-process runs of the Packages API commands (versions, cleanup) and the gate against a served
// simulation in the ghcr profile, with --api-url pointing at its API.

let directory: string;
let bed: Bed;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-packages-'));
  bed = await startBed(directory, 'ghcr');
});

afterAll(async () => {
  await bed?.server.close();
  await rm(directory, { recursive: true, force: true });
});

/** `ghcr --api-url <the bed's API> <argv>`. */
const api = (argv: readonly string[]) => runCli(['--api-url', bed.apiUrl, ...argv], { env: bed.env });

const usage = (outcome: { code: number; stderr: string; stdout: string }, message: RegExp): void => {
  expect(outcome.code).toBe(2);
  expect(outcome.stderr).toMatch(/^error: GHCR_USAGE: [^\n]+\n$/);
  expect(outcome.stderr).toMatch(message);
  expect(outcome.stdout).toBe('');
};

describe('ghcr versions', () => {
  it('list --json: every version, newest first, with digest and tags', async () => {
    const outcome = await api(['versions', 'list', 'octo-org/many', '--json']);
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    const result = JSON.parse(outcome.stdout) as VersionsListResult;
    expect(Object.keys(result)).toEqual(['registry', 'package', 'state', 'versions']);
    expect(result).toMatchObject({ registry: bed.registry, package: 'octo-org/many', state: 'active' });
    expect(result.versions).toHaveLength(25);
    expect(result.versions[0]).toEqual({
      id: expect.any(Number),
      digest: bed.seed.many.versions[24]?.digest,
      tags: ['v25'],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('the registry may be named in the package, and then needs no --api-url of its own kind', async () => {
    const named = await runCli(
      ['--api-url', bed.apiUrl, 'versions', 'list', `${bed.registry}/octo-org/many`, '--json'],
      { env: bed.env },
    );
    expect(named.code).toBe(0);
    const text = await api(['versions', 'list', 'octo-org/many']);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +CREATED +DIGEST +TAGS$/);
    expect(lines[1]).toMatch(new RegExp(`^\\d+ +\\S+Z +${bed.seed.many.versions[24]?.digest} +v25$`));
  });

  it('delete by tag, list --state deleted, restore by id; delete by digest, restore by tag', async () => {
    const v24 = bed.seed.many.versions[23];
    const deleted = await api(['versions', 'delete', 'octo-org/many', 'v24', '--json']);
    expect(deleted.code).toBe(0);
    const result = JSON.parse(deleted.stdout) as VersionChangeResult;
    expect(result).toEqual({
      registry: bed.registry,
      package: 'octo-org/many',
      id: expect.any(Number),
      digest: v24?.digest,
      tags: ['v24'],
      outcome: 'deleted',
    });
    const gone = await runCli(['inspect', `${bed.registry}/octo-org/many:v24`], { env: bed.env });
    expect(gone.code).toBe(1);
    const listed = JSON.parse(
      (await api(['versions', 'list', 'octo-org/many', '--state', 'deleted', '--json'])).stdout,
    ) as VersionsListResult;
    expect(listed.versions.map((version) => version.id)).toEqual([result.id]);
    expect(listed.versions[0]?.deletedAt).toEqual(expect.any(String));

    const restored = await api(['versions', 'restore', 'octo-org/many', String(result.id), '--json']);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({ ...result, outcome: 'restored' });
    expect((await runCli(['inspect', `${bed.registry}/octo-org/many:v24`], { env: bed.env })).code).toBe(0);

    const byDigest = await api(['versions', 'delete', 'octo-org/many', v24?.digest ?? '']);
    expect(byDigest.code).toBe(0);
    expect(byDigest.stdout).toBe(`deleted octo-org/many version ${result.id} (${v24?.digest}; tags v24)\n`);
    expect(byDigest.stderr).toBe(
      `restore it within 30 days with: ghcr versions restore octo-org/many ${result.id}\n`,
    );
    const byTag = await api(['versions', 'restore', 'octo-org/many', 'v24']);
    expect(byTag.code).toBe(0);
    expect(byTag.stdout).toBe(`restored octo-org/many version ${result.id} (${v24?.digest}; tags v24)\n`);
  });

  it('a version that is not there fails with exit 1 and says how to list them', async () => {
    const outcome = await api(['versions', 'delete', 'octo-org/many', 'no-such-tag']);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe(
      'error: GHCR_NOT_FOUND: octo-org/many has no active version tagged "no-such-tag"; "ghcr versions list octo-org/many" lists them\n',
    );
    const deleted = await api(['versions', 'restore', 'octo-org/many', '999999']);
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toMatch(
      /has no deleted version 999999; "ghcr versions list octo-org\/many --state deleted" lists them/,
    );
  });

  it('usage errors exit 2', async () => {
    usage(await api(['versions', 'list', 'octo-org/many:v1']), /names an image/);
    usage(await api(['versions', 'list', 'app']), /is not owner\/package/);
    usage(
      await api(['versions', 'list', 'octo-org/many', '--state', 'gone']),
      /Allowed choices are active, deleted/,
    );
    usage(await api(['versions', 'delete', 'octo-org/many', 'sha256:abc']), /is not a digest/);
    usage(
      await runCli(['versions', 'list', `${bed.registry}/octo-org/many`], { env: bed.env }),
      /the Packages API at https:\/\/api\.github\.com serves the packages of ghcr\.io, not of 127\.0\.0\.1:\d+; pass that registry's API URL with --api-url/,
    );
  });
});

describe('ghcr cleanup', () => {
  it('prints the plan and deletes nothing without --apply', async () => {
    const before = JSON.parse(
      (await api(['versions', 'list', 'octo-org/app', '--json'])).stdout,
    ) as VersionsListResult;
    const outcome = await api(['cleanup', 'octo-org/app', '--json']);
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as CleanupResult;
    expect(result.applied).toBe(false);
    expect(result.packages).toHaveLength(1);
    const [entry] = result.packages;
    expect(Object.keys(entry ?? {})).toEqual(['registry', 'package', 'plan']);
    expect(entry?.plan.summary).toEqual({
      versions: before.versions.length,
      keep: before.versions.length - 1,
      delete: 1,
    });
    const orphan = entry?.plan.decisions.find((decision) => decision.digest === bed.seed.app.orphan.digest);
    expect(orphan).toMatchObject({
      action: 'delete',
      reasons: [expect.objectContaining({ rule: 'untagged' })],
    });
    const after = JSON.parse(
      (await api(['versions', 'list', 'octo-org/app', '--json'])).stdout,
    ) as VersionsListResult;
    expect(after.versions).toHaveLength(before.versions.length);

    const text = await api(['cleanup', 'octo-org/app']);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `${bed.registry}/octo-org/app: ${before.versions.length} versions, keep ${before.versions.length - 1}, delete 1 (plan only; --apply deletes)`,
    );
    expect(lines[1]).toMatch(/^ACTION +ID +CREATED +KIND +DIGEST +TAGS +WHY$/);
    expect(lines.filter((line) => line.startsWith('delete '))).toEqual([
      expect.stringContaining(`${bed.seed.app.orphan.digest.slice(0, 19)}  -`),
    ]);
  });

  it('--apply --min-age leaves younger versions alone (exit 0, "left alone"); a bad --min-age is a usage error', async () => {
    const applied = await api(['cleanup', 'octo-org/app', '--apply', '--min-age', '100000d']);
    expect(applied.code).toBe(0);
    const orphan = bed.seed.app.orphan.digest;
    expect(applied.stdout).toMatch(
      new RegExp(
        `\\n  left alone \\d+ ${orphan.slice(0, 19)}: created or updated .* ago, within minAge 100000d`,
      ),
    );
    expect(applied.stdout).toContain('deleted 0, kept');
    const json = JSON.parse(
      (await api(['cleanup', 'octo-org/app', '--apply', '--min-age', '100000d', '--json'])).stdout,
    ) as CleanupResult;
    expect(json.packages[0]?.report?.skipped).toEqual([
      expect.objectContaining({ digest: orphan, cause: 'min-age' }),
    ]);
    expect(json.packages[0]?.report?.revalidation).toMatchObject({ checks: 1, tagLists: 1 });
    usage(
      await api(['cleanup', 'octo-org/app', '--apply', '--min-age', 'soon']),
      /--min-age "soon" is not a duration/,
    );
  });

  it('--keep-n-tagged, --delete-tags and --keep-tags plan tagged images; --validate reports, --apply deletes', async () => {
    const plan = JSON.parse(
      (await api(['cleanup', 'octo-org/many', '--keep-n-tagged', '20', '--keep-tags', 'v1', '--json']))
        .stdout,
    ) as CleanupResult;
    const decisions = plan.packages[0]?.plan.decisions ?? [];
    const deleted = decisions
      .filter((decision) => decision.action === 'delete')
      .flatMap((decision) => decision.tags);
    expect(deleted.sort()).toEqual(['v2', 'v3', 'v4', 'v5']);
    expect(plan.packages[0]?.plan.policy).toMatchObject({ keepNewestTagged: 20, keepTags: ['v1'] });

    const applied = await api([
      'cleanup',
      'octo-org/many',
      '--keep-n-tagged',
      '20',
      '--keep-tags',
      'v1',
      '--validate',
      '--apply',
      '--json',
    ]);
    expect(applied.code).toBe(0);
    const result = JSON.parse(applied.stdout) as CleanupResult;
    expect(result.applied).toBe(true);
    expect(result.packages[0]?.report?.summary).toMatchObject({ deleted: 4, failed: 0, skipped: 0 });
    expect(result.packages[0]?.validation?.ok).toBe(true);
    const tags = await runCli(['tags', `${bed.registry}/octo-org/many`, '--json'], { env: bed.env });
    expect((JSON.parse(tags.stdout) as { tags: string[] }).tags.sort()).not.toContain('v2');
    for (const tag of ['v1', 'v6', 'v25']) {
      expect(
        (
          await runCli(['pull', `${bed.registry}/octo-org/many:${tag}`, join(directory, `pull-${tag}`)], {
            env: bed.env,
          })
        ).code,
      ).toBe(0);
    }
  });

  it('--validate exits 3 when an image is broken', async () => {
    // Deleting a platform manifest of a tagged index breaks it.
    const platform = bed.seed.app.releases[0]?.platforms[1];
    const deleted = await api(['versions', 'delete', 'octo-org/app', platform?.digest ?? '']);
    expect(deleted.code).toBe(0);
    const outcome = await api(['cleanup', 'octo-org/app', '--validate']);
    expect(outcome.code).toBe(3);
    expect(outcome.stdout).toContain('validation: broken images found');
    expect(outcome.stdout).toContain(
      `partial index ${bed.seed.app.releases[0]?.index.digest} (1.0.0): missing ${platform?.digest}`,
    );
    const json = JSON.parse(
      (await api(['cleanup', 'octo-org/app', '--validate', '--json'])).stdout,
    ) as CleanupResult;
    expect(json.packages[0]?.validation).toMatchObject({
      ok: false,
      partialImages: [expect.objectContaining({ missingManifests: [platform?.digest] })],
    });
    await api(['versions', 'restore', 'octo-org/app', platform?.digest ?? '']);
    expect((await api(['cleanup', 'octo-org/app', '--validate'])).code).toBe(0);
  });

  it('usage errors exit 2 before anything is read', async () => {
    usage(
      await api(['cleanup', 'octo-org/app', '--older-than', 'soon']),
      /--older-than "soon" is not a duration/,
    );
    usage(await api(['cleanup', 'octo-org/app', '--keep-n-tagged', '-1']), /expected a whole number/);
    usage(await api(['cleanup', 'octo-org/app', '--keep-tags', '/[/']), /^error: GHCR_USAGE: --keep-tags: /);
    usage(await api(['cleanup']), /name a package \(owner\/package\), or give --owner OWNER --all/);
  });
});

describe('ghcr gate', () => {
  // These reports are unsigned: the trusting mode (--allow-unverified) is asked for explicitly.
  it('blocks (exit 3) an image without a report, passes it with --no-report pass', async () => {
    const blocked = await runCli(
      ['gate', `${bed.registry}/octo-org/many:v7`, '--allow-unverified', '--json'],
      { env: bed.env },
    );
    expect(blocked.code).toBe(3);
    expect(blocked.stderr).toBe('');
    const result = JSON.parse(blocked.stdout) as GateResult;
    expect(result).toMatchObject({
      registry: bed.registry,
      repository: 'octo-org/many',
      passed: false,
      failOn: 'high',
      digest: bed.seed.many.versions[6]?.digest,
      blocking: [],
    });
    expect(result.reason).toContain('--no-report pass');
    const passed = await runCli(
      ['gate', `${bed.registry}/octo-org/many:v7`, '--allow-unverified', '--no-report', 'pass'],
      {
        env: bed.env,
      },
    );
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(/^127\.0\.0\.1:\d+\/octo-org\/many@sha256:[0-9a-f]{64}: passed: /);
  });

  it('reads an attached Trivy report: blocked at high, passed at critical or with --ignore', async () => {
    const report = join(directory, 'trivy.json');
    await writeFile(report, TRIVY_REPORT);
    const attached = await runCli(
      ['attach', `${bed.registry}/octo-org/many:v8`, report, '--artifact-type', TRIVY_ARTIFACT_TYPE],
      { env: bed.env },
    );
    expect(attached.code).toBe(0);
    const blocked = await runCli(['gate', `${bed.registry}/octo-org/many:v8`, '--allow-unverified'], {
      env: bed.env,
    });
    expect(blocked.code).toBe(3);
    expect(blocked.stdout.split('\n')[1]).toBe(
      '  high     CVE-2023-5363 libcrypto3 3.1.3-r0 (fixed in 3.1.4-r0)',
    );
    const critical = await runCli(
      ['gate', `${bed.registry}/octo-org/many:v8`, '--allow-unverified', '--fail-on', 'critical', '--json'],
      {
        env: bed.env,
      },
    );
    expect(critical.code).toBe(0);
    expect(JSON.parse(critical.stdout)).toMatchObject({
      passed: true,
      failOn: 'critical',
      findings: [expect.objectContaining({ id: 'CVE-2023-5363' })],
    });
    const ignored = await runCli(
      [
        'gate',
        `${bed.registry}/octo-org/many:v8`,
        '--allow-unverified',
        '--ignore',
        'cve-2023-5363',
        '--json',
      ],
      {
        env: bed.env,
      },
    );
    expect(ignored.code).toBe(0);
    expect(JSON.parse(ignored.stdout)).toMatchObject({
      passed: true,
      ignored: [expect.objectContaining({ id: 'CVE-2023-5363' })],
    });
  });

  it('usage errors exit 2', async () => {
    usage(
      await runCli(['gate', `${bed.registry}/octo-org/many:v7`, '--fail-on', 'severe'], { env: bed.env }),
      /Allowed choices are critical, high, medium, low/,
    );
    usage(
      await runCli(['gate', `${bed.registry}/octo-org/many:v7`, '--no-report', 'maybe'], { env: bed.env }),
      /Allowed choices are pass, fail/,
    );
    const platform = await runCli(['gate', `${bed.registry}/octo-org/many:v7`, '--platform', 'linux'], {
      env: bed.env,
    });
    expect(platform.code).toBe(2);
    expect(platform.stderr).toMatch(
      /^error: GHCR_INVALID_PLATFORM: invalid platform "linux": it names no architecture/,
    );
  });
});
