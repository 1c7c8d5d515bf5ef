/**
 * The action in-process against the simulation's ghcr profile (seedDemo: multi-arch releases with
 * BuildKit attestations, a Sigstore bundle at the sha256-<hex> fallback tag, cosign .sig/.att tags,
 * an orphaned untagged image): versions from its Packages API, the graph from its registry,
 * deletions through its Packages API.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticCredentials } from '@ghcr/auth';
import { createGhcrClient, type GhcrClient } from '@ghcr/client';
import { createManualClock, type ManualClock } from '@ghcr/oci-types';
import { createSimulation, type DemoSeed, type Simulation, seedDemo } from '@ghcr/simulation';
import { afterEach, describe, expect, it } from 'vitest';
import { type ActionResult, runAction } from './run-action.js';
import type { BrokenEntry, VersionEntry } from './summary.js';
import { actionEnvironment, attachSarif, parseOutputsFile, pullCompletely } from './testing/support.js';

interface Run {
  readonly result: ActionResult;
  readonly stdout: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

interface Bed {
  readonly sim: Simulation;
  readonly seed: DemoSeed;
  readonly clock: ManualClock;
  readonly client: GhcrClient;
  run(inputs: Readonly<Record<string, string>>): Promise<Run>;
}

const directories: string[] = [];
const clients: GhcrClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function bed(): Promise<Bed> {
  const clock = createManualClock(Date.parse('2026-05-01T00:00:00Z'));
  const sim = createSimulation({ profile: 'ghcr', clock });
  const seed = await seedDemo(sim, { releases: 3, manyVersions: 3 });
  const directory = await mkdtemp(join(tmpdir(), 'cleanup-action-'));
  directories.push(directory);
  const client = createGhcrClient({
    registry: 'ghcr.io',
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: seed.admin, password: seed.tokens.all }),
    clock,
    versions: { apiUrl: sim.options.apiUrl },
  });
  clients.push(client);
  const outputFile = join(directory, 'output');
  const summaryFile = join(directory, 'summary.md');
  return {
    sim,
    seed,
    clock,
    client,
    async run(inputs) {
      await writeFile(outputFile, '');
      await writeFile(summaryFile, '');
      let stdout = '';
      const env = actionEnvironment(
        { owner: seed.owner, token: seed.tokens.all, ...inputs },
        { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_API_URL: sim.options.apiUrl },
      );
      const result = await runAction(env, {
        dispatcher: sim.dispatcher(),
        clock,
        write: (text) => {
          stdout += text;
        },
      });
      const outputs = parseOutputsFile(await readFile(outputFile, 'utf8'));
      const summary = await readFile(summaryFile, 'utf8');
      // The token reaches the runner only in ::add-mask:: commands: never a log line, an output or the summary.
      const token = inputs.token ?? seed.tokens.all;
      const logLines = stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
      for (const text of [logLines.join('\n'), JSON.stringify(outputs), summary]) {
        expect(text).not.toContain(token);
      }
      return { result, stdout, outputs, summary };
    },
  };
}

const entriesOf = (json: string | undefined): VersionEntry[] => JSON.parse(json ?? 'null') as VersionEntry[];
const activeIds = async (client: GhcrClient, repository: string): Promise<number[]> =>
  (await client.versions.list(repository)).map((version) => version.id).sort((a, b) => a - b);

// Each test seeds a simulation and runs the whole action on it: seconds each on a busy machine.
describe('runAction: retention against the simulation', { timeout: 60_000 }, () => {
  it('dry run (the default) deletes nothing and reports the plan', async () => {
    const { sim, seed, client, run } = await bed();
    const repository = seed.app.repository;
    const before = await activeIds(client, repository);
    sim.log.clear();
    const { result, stdout, outputs, summary } = await run({
      packages: 'app',
      'keep-n-tagged': '1',
      'keep-tags': 'latest',
    });

    expect(result.exitCode).toBe(0);
    expect(outputs['dry-run']).toBe('true');
    expect(sim.log.byOperation('api.versions.delete')).toHaveLength(0);
    expect(await activeIds(client, repository)).toEqual(before);

    // The plan: releases 1.0.0 and 1.1.0 go with their platforms and attestations, and the orphan.
    const [old1, old2, latest] = seed.app.releases;
    const expected = [old1, old2]
      .flatMap((release) => [
        release?.index.digest,
        ...(release?.platforms.map((image) => image.digest) ?? []),
        ...(release?.attestations.map((attestation) => attestation.digest) ?? []),
      ])
      .concat(seed.app.orphan.digest)
      .sort();
    const deleted = entriesOf(outputs.deleted);
    expect(deleted.map((entry) => entry.digest).sort()).toEqual(expected);
    expect(deleted.every((entry) => entry.outcome === 'dry-run' && entry.package === 'app')).toBe(true);
    expect(deleted.find((entry) => entry.digest === old1?.index.digest)).toMatchObject({
      tags: ['1.0.0'],
      kind: 'index',
      rule: 'beyond-newest-tagged',
    });
    const kept = entriesOf(outputs.kept);
    expect(kept).toHaveLength(before.length - expected.length);
    expect(kept.find((entry) => entry.digest === latest?.index.digest)?.rule).toBe('keep-tags');
    expect(kept.find((entry) => entry.digest === seed.app.referrersIndex.digest)?.rule).toBe(
      'referrer-of-kept',
    );
    expect(kept.find((entry) => entry.digest === seed.app.bundle.digest)?.reason).toMatch(/kept/);
    expect(entriesOf(outputs.failed)).toEqual([]);
    expect(outputs['gate-passed']).toBe('');

    expect(stdout).toContain('::group::Clean up octo-org/app');
    expect(stdout).toContain(
      `plan: keep ${kept.length}, delete ${expected.length} of ${before.length} versions (dry run)`,
    );
    expect(stdout).toContain(`::add-mask::${seed.tokens.all}`);
    expect(summary).toContain('## GHCR cleanup: dry run, nothing was deleted');
    expect(summary).toContain('| Package | Versions | Would delete | Kept | Failed | Status |');
    expect(summary).toContain(
      `| \`octo-org/app\` | ${before.length} | ${expected.length} | ${kept.length} | 0 | ✅ |`,
    );
    expect(summary).toContain('### Would be deleted');
    expect(summary).toContain('`1.0.0`');
  });

  it('applying deletes exactly the planned versions, and every kept tag still pulls completely', async () => {
    const { sim, seed, client, run } = await bed();
    const repository = seed.app.repository;
    const inputs = { packages: 'app', 'keep-n-tagged': '1', 'keep-tags': 'latest' };
    const before = await activeIds(client, repository);
    const planned = entriesOf((await run(inputs)).outputs.deleted);
    expect(planned.length).toBeGreaterThan(0);

    sim.log.clear();
    const { result, outputs, summary } = await run({ ...inputs, 'dry-run': 'false' });
    expect(result.exitCode).toBe(0);
    expect(outputs['dry-run']).toBe('false');
    const deleted = entriesOf(outputs.deleted);
    expect(deleted.map((entry) => entry.id).sort()).toEqual(planned.map((entry) => entry.id).sort());
    expect(deleted.every((entry) => entry.outcome === 'deleted')).toBe(true);
    expect(sim.log.byOperation('api.versions.delete')).toHaveLength(planned.length);
    const gone = new Set(deleted.map((entry) => entry.id));
    expect(await activeIds(client, repository)).toEqual(before.filter((id) => !gone.has(id)));
    expect(
      entriesOf(outputs.kept)
        .map((entry) => entry.id)
        .sort((a, b) => a - b),
    ).toEqual(before.filter((id) => !gone.has(id)));

    const tags = await client.tags.list(repository);
    expect(tags).toEqual(expect.arrayContaining(['1.2.0', 'latest', 'dev']));
    expect(tags).not.toContain('1.0.0');
    for (const tag of tags) expect(await pullCompletely(client, repository, tag)).toBeGreaterThan(0);
    expect(await pullCompletely(client, repository, 'latest')).toBe(8);
    expect(summary).toContain('## GHCR cleanup: applied');
    expect(summary).toContain('### Deleted');

    // A second run finds nothing more to delete under the same rules.
    const again = await run({ ...inputs, 'dry-run': 'false' });
    expect(again.result.exitCode).toBe(0);
    expect(entriesOf(again.outputs.deleted)).toEqual([]);
  });

  it('expands package globs and cleans each package', async () => {
    const { seed, run } = await bed();
    const { result, outputs } = await run({ packages: 'ap*\nman?', 'untagged-only': 'true' });
    expect(result.exitCode).toBe(0);
    expect(result.packages.map((item) => item.repository)).toEqual([
      seed.app.repository,
      seed.many.repository,
    ]);
    // untagged-only: the orphan goes, no tagged image and nothing of one.
    expect(entriesOf(outputs.deleted).map((entry) => entry.digest)).toEqual([seed.app.orphan.digest]);
  });

  it('validate reports a broken image (a platform manifest deleted through the Packages API) and fails, changing nothing', async () => {
    const { sim, seed, client, run } = await bed();
    const repository = seed.app.repository;
    const [first] = seed.app.releases;
    const platform = first?.platforms[0];
    if (first === undefined || platform === undefined) throw new Error('the demo release is missing');
    const version = await client.versions.findByDigest(repository, platform.digest);
    if (version === undefined) throw new Error('the platform manifest has no version');
    await client.versions.delete(repository, version.id);

    const valid = await run({ packages: 'many', validate: 'true' });
    expect(valid.result.exitCode).toBe(0);
    expect(JSON.parse(valid.outputs.broken ?? '')).toEqual([]);

    const before = await activeIds(client, repository);
    sim.log.clear();
    const { result, stdout, outputs, summary } = await run({
      packages: 'app',
      validate: 'true',
      'dry-run': 'false',
    });
    expect(result.exitCode).toBe(1);
    expect(sim.log.byOperation('api.versions.delete')).toHaveLength(0);
    expect(await activeIds(client, repository)).toEqual(before);
    const broken = JSON.parse(outputs.broken ?? '') as BrokenEntry[];
    // Release 1.0.0 misses a platform, so its tag does not pull; that platform's BuildKit
    // attestation lost its subject. Nothing else is reported.
    const attestation = first.attestations[0];
    expect(broken.map((entry) => [entry.problem, entry.digest, entry.tags])).toEqual([
      ['partial', first.index.digest, ['1.0.0']],
      ['orphaned-referrer', attestation?.digest, []],
      ['broken-tag', first.index.digest, ['1.0.0']],
    ]);
    expect(broken[0]).toMatchObject({ package: 'app', versionId: expect.any(Number) });
    for (const entry of [broken[0], broken[2]]) expect(entry?.detail).toContain(platform.digest);
    expect(broken[1]?.detail).toContain(`its subject ${platform.digest}`);
    expect(outputs.deleted).toBe('[]');
    expect(stdout).toContain(
      `::error title=Broken image in octo-org/app::octo-org/app: partial ${first.index.digest} (1.0.0)`,
    );
    expect(summary).toContain('## GHCR cleanup: validate, nothing was changed');
    expect(summary).toContain('### Broken images');
    expect(summary).toContain('❌ broken images');
  });
});

describe('runAction: the vulnerability gate', () => {
  it('blocks on a critical finding, passes with its id ignored, and fails closed without a report', async () => {
    const { seed, client, run } = await bed();
    const repository = seed.many.repository;
    const [v1, v2] = seed.many.versions;
    if (v1 === undefined || v2 === undefined) throw new Error('the demo versions are missing');
    await attachSarif(client, repository, v1.digest, 'CVE-2022-3602', '9.8');

    const blocked = await run({ 'gate-image': `${repository}:v1`, 'gate-fail-on': 'high' });
    expect(blocked.result.exitCode).toBe(1);
    expect(blocked.outputs['gate-passed']).toBe('false');
    expect(blocked.result.gate?.blocking.map((finding) => [finding.id, finding.severity])).toEqual([
      ['CVE-2022-3602', 'critical'],
    ]);
    expect(blocked.stdout).toContain(`::error title=Vulnerability gate::gate blocked ${repository}:v1`);
    expect(blocked.summary).toContain('## GHCR vulnerability gate\n\n### Vulnerability gate');
    expect(blocked.summary).toContain('❌ blocked');
    expect(blocked.summary).toContain('| `CVE-2022-3602` | critical | openssl | 3.0.1 | 3.0.7 | sarif |');
    // Only the gate ran: no package was touched.
    expect(blocked.outputs.deleted).toBe('[]');

    const ignored = await run({
      'gate-image': `${repository}:v1`,
      'gate-fail-on': 'high',
      'gate-ignore': 'cve-2022-3602',
    });
    expect(ignored.result.exitCode).toBe(0);
    expect(ignored.outputs['gate-passed']).toBe('true');
    expect(ignored.summary).toContain('✅ passed');

    const critical = await run({ 'gate-image': `${repository}:v1`, 'gate-fail-on': 'critical' });
    expect(critical.outputs['gate-passed']).toBe('false');

    const unscanned = await run({ 'gate-image': `${repository}:v2` });
    expect(unscanned.result.exitCode).toBe(1);
    expect(unscanned.outputs['gate-passed']).toBe('false');
    const allowed = await run({ 'gate-image': `${repository}:v2`, 'gate-no-report': 'pass' });
    expect(allowed.outputs['gate-passed']).toBe('true');
  });

  it('a gate that cannot run (unknown image) fails the step with the reason', async () => {
    const { seed, run } = await bed();
    const { result, stdout, outputs } = await run({ 'gate-image': `${seed.many.repository}:nope` });
    expect(result.exitCode).toBe(1);
    expect(outputs['gate-passed']).toBe('false');
    expect(stdout).toMatch(
      /::error title=Vulnerability gate::gate for octo-org\/many:nope could not run: .+/,
    );
  });
});

describe('runAction: errors', () => {
  it('bad inputs give one clear error per input, naming it, and nothing is requested', async () => {
    const { sim, run } = await bed();
    sim.log.clear();
    const { result, stdout, outputs, summary } = await run({
      packages: 'app',
      'keep-n-tagged': '-1',
      timestamp: 'modified_at',
      'older-than': '30',
      'dry-run': 'yes',
    });
    expect(result.exitCode).toBe(1);
    expect(sim.log.entries).toHaveLength(0);
    expect(stdout).toContain(
      '::error title=Invalid input "keep-n-tagged"::input "keep-n-tagged": must be a whole number, 0 or more',
    );
    expect(stdout).toContain(
      '::error title=Invalid input "timestamp"::input "timestamp": must be one of created_at, updated_at, got "modified_at"',
    );
    expect(stdout).toContain(
      '::error title=Invalid input "older-than"::input "older-than": "30" has no unit',
    );
    expect(stdout).toContain('::error title=Invalid input "dry-run"::input "dry-run": must be true or false');
    expect(result.problems).toHaveLength(4);
    expect(outputs).toEqual({});
    expect(summary).toContain('### Invalid inputs');
  });

  it('a version GitHub answers 404 "Package not found" for mid-run is reported as already gone, not a failure', async () => {
    const { sim, run } = await bed();
    // What the other cleanup actions met: a version the list had just returned, 404 on its DELETE.
    sim.faults.add({ operation: 'api.versions.delete', nth: 2, action: { type: 'status', status: 404 } });
    const { result, outputs, stdout, summary } = await run({
      packages: 'app',
      'keep-tags': 'latest',
      'keep-n-tagged': '1',
      'dry-run': 'false',
    });
    expect(result.exitCode).toBe(0);
    const deleted = entriesOf(outputs.deleted);
    expect(deleted.filter((entry) => entry.outcome === 'already-gone')).toHaveLength(1);
    expect(deleted.filter((entry) => entry.outcome === 'deleted').length).toBeGreaterThan(0);
    expect(entriesOf(outputs.failed)).toEqual([]);
    expect(stdout).toMatch(
      /::warning title=Cleanup of octo-org\/app::octo-org\/app: 1 version was already gone when deleted/,
    );
    expect(summary).toContain('✅ (1 already gone: deleted since the list was read)');
  });

  it('mode list sets the matrix output and changes nothing', async () => {
    const { sim, seed, client, run } = await bed();
    const before = await activeIds(client, seed.app.repository);
    sim.log.clear();
    const { result, outputs, summary } = await run({ mode: 'list', packages: '*' });
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(outputs.matrix ?? '')).toEqual(['app', 'many']);
    expect(outputs.deleted).toBe('[]');
    expect(summary).toContain('## GHCR cleanup: packages listed, nothing was changed');
    expect(sim.log.filter((entry) => entry.method === 'DELETE')).toEqual([]);
    expect(await activeIds(client, seed.app.repository)).toEqual(before);
  });

  it('a package that does not exist is an error for that package; the others still run', async () => {
    const { run } = await bed();
    const { result, stdout, outputs } = await run({ packages: 'missing\nmany' });
    expect(result.exitCode).toBe(1);
    expect(result.packages.map((item) => [item.package, item.error === undefined])).toEqual([
      ['missing', false],
      ['many', true],
    ]);
    expect(stdout).toMatch(/::error title=Cleanup of octo-org\/missing::octo-org\/missing: .*not found/i);
    expect(outputs.deleted).toBe('[]');
  });

  it('a token without delete:packages: the deletions fail, are reported, and the step fails', async () => {
    const { seed, client, run } = await bed();
    const before = await activeIds(client, seed.app.repository);
    const { result, outputs, stdout } = await run({
      packages: 'app',
      'keep-tags': 'latest',
      'keep-n-tagged': '1',
      'dry-run': 'false',
      token: seed.tokens.read,
    });
    expect(result.exitCode).toBe(1);
    const failed = entriesOf(outputs.failed);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((entry) => typeof entry.error === 'string' && entry.error !== '')).toBe(true);
    expect(stdout).toContain('::error title=Cleanup of octo-org/app::');
    expect(await activeIds(client, seed.app.repository)).toEqual(before);
  });
});
