import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachResult } from './commands/attach.js';
import type { CleanupResult } from './commands/cleanup.js';
import type { CopyResult } from './commands/copy.js';
import type { GateResult } from './commands/gate.js';
import type { IndexCreateResult } from './commands/index.js';
import type { InspectResult } from './commands/inspect.js';
import type { PullResult } from './commands/pull.js';
import type { PushResult } from './commands/push.js';
import type { ReferrersResult } from './commands/referrers.js';
import type { ServeResult } from './commands/serve.js';
import type { VersionChangeResult, VersionsListResult } from './commands/versions.js';
import {
  LAYOUT_FIXTURE,
  LAYOUT_INDEX_DIGEST,
  TRIVY_ARTIFACT_TYPE,
  TRIVY_REPORT,
  treeDigests,
} from './testing/bed.js';
import {
  ghcr,
  type ProcessOutcome,
  requireBuiltCli,
  type ServeProcess,
  startServe,
} from './testing/spawn.js';

// End to end: every command added for issue 7 as a separate `ghcr` process (the built executable),
// over real sockets, against a `ghcr serve --seed demo` process.

let directory: string;
let serve: ServeProcess;
let served: ServeResult;
let env: Record<string, string | undefined>;
/** Bytes of the layout's manifests and blobs (what its first push sent, and what a pull moves). */
let layoutBytes = 0;

/** Runs `ghcr <argv>` and parses its one JSON line, failing with its stderr when it did not exit 0. */
async function json<T>(argv: readonly string[], expectedCode = 0): Promise<T> {
  const outcome = await ghcr([...argv, '--json'], { env });
  expect(outcome.code, outcome.stderr).toBe(expectedCode);
  expect(outcome.stdout.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(outcome.stdout) as T;
}

const run = (argv: readonly string[]): Promise<ProcessOutcome> => ghcr(argv, { env });

beforeAll(async () => {
  requireBuiltCli();
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-e2e-commands-'));
  env = { HOME: directory, DOCKER_CONFIG: join(directory, 'docker'), PATH: process.env.PATH };
  serve = await startServe(['--port', '0', '--json', '--seed', 'demo'], {
    HOME: directory,
    PATH: process.env.PATH,
  });
  served = JSON.parse(serve.firstLine) as ServeResult;
  // The Packages API of `ghcr serve` is at its apiUrl: every command of this run gets it.
  env.GITHUB_API_URL = served.apiUrl;
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

describe('push, pull, copy, inspect', () => {
  it('push an OCI image layout, pull it back: the same files', async () => {
    const pushed = await json<PushResult>(['push', `${served.registry}/octo-org/layout:v1`, LAYOUT_FIXTURE]);
    expect(pushed).toMatchObject({ digest: LAYOUT_INDEX_DIGEST, tags: ['v1'], transferred: 7 });
    layoutBytes = pushed.bytesTransferred;
    const out = join(directory, 'pulled');
    const pulled = await json<PullResult>(['pull', `${served.registry}/octo-org/layout:v1`, out]);
    expect(pulled).toMatchObject({ digest: LAYOUT_INDEX_DIGEST, names: ['v1'], transferred: 7 });
    expect(await treeDigests(out)).toEqual(await treeDigests(LAYOUT_FIXTURE));
  });

  it('copy between repositories (mounted), then inspect the copy', async () => {
    const copied = await json<CopyResult>([
      'copy',
      `${served.registry}/octo-org/layout:v1`,
      `${served.registry}/octo-org/layout-copy:stable`,
    ]);
    expect(copied).toMatchObject({ digest: LAYOUT_INDEX_DIGEST, destination: { tags: ['stable'] } });
    expect(copied.mounted).toBeGreaterThan(0);
    const inspected = await json<InspectResult>([
      'inspect',
      `${served.registry}/octo-org/layout-copy:stable`,
    ]);
    expect(inspected).toMatchObject({
      digest: LAYOUT_INDEX_DIGEST,
      platforms: ['linux/amd64', 'linux/arm64/v8'],
      pullSize: layoutBytes,
    });
  });

  it('pull --platform and copy --platform take one platform', async () => {
    const pulled = await json<PullResult>([
      'pull',
      `${served.registry}/octo-org/layout:v1`,
      join(directory, 'arm'),
      '--platform',
      'linux/arm64',
    ]);
    const copied = await json<CopyResult>([
      'copy',
      `${served.registry}/octo-org/layout:v1`,
      `${served.registry}/octo-org/layout-arm:v1`,
      '--platform',
      'linux/arm64',
    ]);
    expect(copied.digest).toBe(pulled.digest);
    expect(copied.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });
});

describe('index create, attach, referrers', () => {
  it('index create from the platform images of the layout', async () => {
    const inspected = await json<InspectResult>(['inspect', `${served.registry}/octo-org/layout:v1`]);
    const digests = (inspected.manifests ?? []).map((entry) => entry.digest);
    const created = await json<IndexCreateResult>([
      'index',
      'create',
      `${served.registry}/octo-org/layout:rebuilt`,
      ...digests,
      '--annotation',
      'org.opencontainers.image.description=rebuilt',
    ]);
    expect(created.manifests.map((entry) => entry.platform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(created.manifests.map((entry) => entry.digest)).toEqual(digests);
    const again = await json<InspectResult>(['inspect', `${served.registry}/octo-org/layout:rebuilt`]);
    expect(again.digest).toBe(created.digest);
  });

  it('attach an SBOM, then referrers lists it', async () => {
    const sbom = join(directory, 'sbom.json');
    await writeFile(sbom, '{"spdxVersion":"SPDX-2.3"}');
    const attached = await json<AttachResult>([
      'attach',
      `${served.registry}/octo-org/layout:v1`,
      sbom,
      '--artifact-type',
      'application/spdx+json',
    ]);
    expect(attached.subject.digest).toBe(LAYOUT_INDEX_DIGEST);
    const listed = await json<ReferrersResult>(['referrers', `${served.registry}/octo-org/layout:v1`]);
    expect(listed.referrers).toEqual([
      expect.objectContaining({ digest: attached.digest, artifactType: 'application/spdx+json' }),
    ]);
  });
});

describe('versions', () => {
  it('list, delete by tag, list deleted, restore', async () => {
    const listed = await json<VersionsListResult>(['versions', 'list', 'octo-org/many']);
    expect(listed.versions).toHaveLength(25);
    const deleted = await json<VersionChangeResult>(['versions', 'delete', 'octo-org/many', 'v3']);
    expect(deleted).toMatchObject({ tags: ['v3'], outcome: 'deleted' });
    expect((await run(['inspect', `${served.registry}/octo-org/many:v3`])).code).toBe(1);
    const gone = await json<VersionsListResult>(['versions', 'list', 'octo-org/many', '--state', 'deleted']);
    expect(gone.versions.map((version) => version.id)).toEqual([deleted.id]);
    const restored = await json<VersionChangeResult>([
      'versions',
      'restore',
      'octo-org/many',
      String(deleted.id),
    ]);
    expect(restored).toMatchObject({ id: deleted.id, outcome: 'restored' });
    expect((await run(['inspect', `${served.registry}/octo-org/many:v3`])).code).toBe(0);
  });
});

describe('cleanup', () => {
  it('prints a plan, deletes nothing; --apply deletes it; every kept tag still pulls', async () => {
    const before = await json<VersionsListResult>(['versions', 'list', 'octo-org/app']);
    const plan = await json<CleanupResult>(['cleanup', 'octo-org/app']);
    const planned = plan.packages[0]?.plan;
    expect(planned?.summary.delete).toBeGreaterThan(0);
    const after = await json<VersionsListResult>(['versions', 'list', 'octo-org/app']);
    expect(after.versions).toHaveLength(before.versions.length);

    // `ghcr serve --seed demo` pushed these versions seconds ago (system clock): without
    // `--min-age 0`, the default 10 minutes would leave them alone.
    const applied = await json<CleanupResult>([
      'cleanup',
      'octo-org/app',
      '--apply',
      '--validate',
      '--min-age',
      '0',
    ]);
    expect(applied.packages[0]?.report?.summary).toMatchObject({
      deleted: planned?.summary.delete,
      failed: 0,
      skipped: 0,
    });
    expect(applied.packages[0]?.validation?.ok).toBe(true);
    const remaining = await json<VersionsListResult>(['versions', 'list', 'octo-org/app']);
    expect(remaining.versions).toHaveLength(before.versions.length - (planned?.summary.delete ?? 0));

    const tags = await json<{ tags: string[] }>(['tags', `${served.registry}/octo-org/app`]);
    expect(tags.tags).toEqual(expect.arrayContaining(['1.0.0', '1.1.0', 'latest', 'dev']));
    for (const tag of tags.tags) {
      const pulled = await run([
        'pull',
        `${served.registry}/octo-org/app:${tag}`,
        join(directory, 'kept', tag),
      ]);
      expect(pulled.code, `${tag}: ${pulled.stderr}`).toBe(0);
    }
  });
});

describe('gate', () => {
  it('blocked without a report (exit 3), passed with --no-report pass, then by the report attached', async () => {
    const image = `${served.registry}/octo-org/many:v9`;
    const blocked = await json<GateResult>(['gate', image], 3);
    expect(blocked.passed).toBe(false);
    // The report below is unsigned: the trusting mode is asked for explicitly.
    const trusting = ['--allow-unverified'];
    expect(blocked.passed).toBe(false);
    const noReport = await run(['gate', image, '--no-report', 'pass']);
    expect(noReport.code).toBe(0);
    expect(noReport.stdout).toMatch(/: passed: /);

    const report = join(directory, 'trivy.json');
    await writeFile(report, TRIVY_REPORT);
    expect((await run(['attach', image, report, '--artifact-type', TRIVY_ARTIFACT_TYPE])).code).toBe(0);
    const unsigned = await json<GateResult>(['gate', image], 3);
    expect(unsigned.reports[0]?.verified).toBe(false);
    expect(unsigned.blocking).toEqual([]);
    const high = await json<GateResult>(['gate', image, ...trusting], 3);
    expect(high.blocking.map((finding) => finding.id)).toEqual(['CVE-2023-5363']);
    const critical = await json<GateResult>(['gate', image, '--fail-on', 'critical', ...trusting]);
    expect(critical).toMatchObject({
      passed: true,
      findings: [expect.objectContaining({ id: 'CVE-2023-5363' })],
    });
  });
});
