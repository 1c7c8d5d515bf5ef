/**
 * The action's sync mode in-process against the simulation's ghcr profile: the config file from
 * the workspace, the mirror brought in step, the outputs and the job summary.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticCredentials } from '@ghcr/auth';
import { createGhcrClient, type GhcrClient } from '@ghcr/client';
import { createManualClock } from '@ghcr/oci-types';
import { createSimulation, seedDemo } from '@ghcr/simulation';
import { afterEach, describe, expect, it } from 'vitest';
import { runAction } from './run-action.js';
import { actionEnvironment, parseOutputsFile } from './testing/support.js';

const directories: string[] = [];
const clients: GhcrClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function bed() {
  const clock = createManualClock(Date.parse('2026-05-01T00:00:00Z'));
  const sim = createSimulation({ profile: 'ghcr', clock });
  const seed = await seedDemo(sim, { releases: 2, manyVersions: 1 });
  const workspace = await mkdtemp(join(tmpdir(), 'cleanup-action-sync-'));
  directories.push(workspace);
  const reader = createGhcrClient({
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: seed.admin, password: seed.tokens.all }),
    clock,
  });
  clients.push(reader);
  const run = async (inputs: Readonly<Record<string, string>>) => {
    const outputFile = join(workspace, 'output');
    const summaryFile = join(workspace, 'summary.md');
    await writeFile(outputFile, '');
    await writeFile(summaryFile, '');
    let stdout = '';
    const result = await runAction(
      actionEnvironment(
        { owner: seed.owner, token: seed.tokens.all, ...inputs },
        {
          GITHUB_OUTPUT: outputFile,
          GITHUB_STEP_SUMMARY: summaryFile,
          GITHUB_API_URL: sim.options.apiUrl,
          GITHUB_WORKSPACE: workspace,
          HOME: workspace,
        },
      ),
      { dispatcher: sim.dispatcher(), clock, write: (text) => (stdout += text) },
    );
    const outputs = parseOutputsFile(await readFile(outputFile, 'utf8'));
    const summary = await readFile(summaryFile, 'utf8');
    for (const text of [
      stdout
        .split('\n')
        .filter((line) => !line.startsWith('::add-mask::'))
        .join('\n'),
      summary,
    ]) {
      expect(text).not.toContain(seed.tokens.all);
    }
    return { result, outputs, summary, stdout };
  };
  return { sim, seed, workspace, reader, run };
}

describe('runAction: sync mode', { timeout: 60_000 }, () => {
  it('plans in a dry run, mirrors when applied, and finds nothing to do the next time', async () => {
    const { sim, seed, workspace, reader, run } = await bed();
    const tags = seed.app.releases.map((release) => release.tag);
    await writeFile(
      join(workspace, 'mirrors.yml'),
      `sync:\n  - source: ghcr.io/${seed.app.repository}\n    target: ghcr.io/${seed.owner}/app-mirror\n    tags: [${tags.map((tag) => `'${tag}'`).join(', ')}]\n`,
    );

    const planned = await run({ mode: 'sync', 'sync-config': 'mirrors.yml' });
    expect(planned.result.exitCode).toBe(0);
    expect(planned.outputs['sync-status']).toBe('in-sync');
    expect(JSON.parse(planned.outputs.synced ?? '')).toEqual(
      tags.map((tag) => `ghcr.io/${seed.app.repository}:${tag} → ghcr.io/${seed.owner}/app-mirror:${tag}`),
    );
    expect(planned.summary).toContain('## GHCR sync: dry run');
    expect(planned.summary).toContain('Sync plan');
    expect(sim.log.byOperation('manifest.put').filter((entry) => entry.path.includes('app-mirror'))).toEqual(
      [],
    );

    const applied = await run({ mode: 'sync', 'sync-config': 'mirrors.yml', 'dry-run': 'false' });
    expect(applied.result.exitCode).toBe(0);
    expect(applied.outputs['sync-status']).toBe('in-sync');
    expect(JSON.parse(applied.outputs.synced ?? '')).toHaveLength(tags.length);
    expect(applied.summary).toContain('Mirrors in sync');
    for (const release of seed.app.releases) {
      const mirrored = await reader.images.inspect(`ghcr.io/${seed.owner}/app-mirror:${release.tag}`);
      expect(mirrored.digest).toBe(release.index.digest);
    }

    sim.log.clear();
    const again = await run({ mode: 'sync', 'sync-config': 'mirrors.yml', 'dry-run': 'false' });
    expect(again.outputs['sync-status']).toBe('in-sync');
    expect(JSON.parse(again.outputs.synced ?? '')).toEqual([]);
    expect(sim.log.byOperation('manifest.put')).toEqual([]);
  });

  it('names the missing or misplaced sync-config input', async () => {
    const { run } = await bed();
    const missing = await run({ mode: 'sync' });
    expect(missing.result.exitCode).toBe(1);
    expect(missing.stdout).toContain('input "sync-config": is empty: give the path of the sync config');
    const misplaced = await run({ packages: 'app', 'sync-config': 'mirrors.yml' });
    expect(misplaced.result.exitCode).toBe(1);
    expect(misplaced.stdout).toContain('input "sync-config": is set, but mode is "cleanup": add mode: sync');
  });

  it('fails with the config file and line when the config is invalid', async () => {
    const { workspace, run } = await bed();
    await writeFile(
      join(workspace, 'mirrors.yml'),
      'sync:\n  - source: ghcr.io/octo-org/app\n    tags: { semver: "not a range" }\n',
    );
    const outcome = await run({ mode: 'sync', 'sync-config': 'mirrors.yml', 'dry-run': 'false' });
    expect(outcome.result.exitCode).toBe(1);
    expect(outcome.stdout).toMatch(/::error title=Sync::sync from .*mirrors\.yml failed: .*mirrors\.yml:\d+/);
    expect(outcome.outputs['sync-status']).toBe('');
  });
});
