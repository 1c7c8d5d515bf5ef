import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OrganizationSeed, seedOrganization } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bed, startBed } from '../testing/bed.js';
import { runCli } from '../testing/io.js';
import type { CleanupResult } from './cleanup.js';

// `ghcr cleanup --owner ORG --all` (a budget, a state file, resuming) and the Mermaid outputs,
// in-process against a served simulation (ghcr profile) with an organisation of five packages.

let directory: string;
let bed: Bed;
let org: OrganizationSeed;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-cleanup-owner-'));
  bed = await startBed(directory, 'ghcr');
  // The demo's admin (whose login the bed wrote) administers this organisation too.
  org = await seedOrganization(bed.server.simulation, { owner: 'big-org', admin: 'octocat', packages: 5 });
});

afterAll(async () => {
  await bed?.server.close();
  await rm(directory, { recursive: true, force: true });
});

const api = (argv: readonly string[]) => runCli(['--api-url', bed.apiUrl, ...argv], { env: bed.env });
const apiRequests = () => bed.server.simulation.log.filter((entry) => entry.path.startsWith('/api/')).length;

describe('ghcr cleanup --owner', { timeout: 60_000 }, () => {
  it('--all within --budget stops, records where, and the next run finishes from --state-file', async () => {
    const stateFile = join(directory, 'state.json');
    const argv = [
      'cleanup',
      '--owner',
      org.owner,
      '--all',
      '--keep-n-tagged',
      '1',
      '--apply',
      '--state-file',
      stateFile,
      // The packages were pushed moments ago by the test bed: no grace period.
      '--min-age',
      '0',
    ];
    const before = apiRequests();
    const first = await api([...argv, '--budget', '16', '--json']);
    expect(first.code).toBe(0);
    // Owner type and the package list, then 7 per package (the versions, the look again before
    // the delete batch, five deletions).
    expect(apiRequests() - before).toBe(16);
    const result = JSON.parse(first.stdout) as CleanupResult;
    expect(result.owner).toMatchObject({
      owner: 'big-org',
      selected: ['pkg-001', 'pkg-002', 'pkg-003', 'pkg-004', 'pkg-005'],
      resumed: [],
      pending: ['pkg-003', 'pkg-004', 'pkg-005'],
      complete: false,
      budget: { limit: 16, used: 16 },
      problems: [],
    });
    expect(
      result.packages.map((entry) => [entry.package, entry.status, entry.report?.summary.deleted]),
    ).toEqual([
      ['big-org/pkg-001', 'done', 5],
      ['big-org/pkg-002', 'done', 5],
    ]);
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { done: string[]; complete: boolean };
    expect(state).toMatchObject({ done: ['pkg-001', 'pkg-002'], complete: false });

    const second = await api([...argv, '--budget', '100']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain('2 packages finished by an earlier run are skipped');
    expect(second.stdout).toContain(
      'big-org: 5 packages selected, 2 finished by an earlier run; 23 of 100 API requests used',
    );
    expect(second.stdout).toContain('every selected package is finished');
    for (const pkg of org.packages) {
      const listed = await api(['versions', 'list', `${org.owner}/${pkg.name}`, '--json']);
      expect((JSON.parse(listed.stdout) as { versions: unknown[] }).versions).toHaveLength(5);
    }
  });

  it('--format mermaid draws each plan; --summary writes the table and the graphs', async () => {
    const summary = join(directory, 'summary.md');
    const outcome = await api([
      'cleanup',
      'octo-org/app',
      '--keep-n-tagged',
      '1',
      '--format',
      'mermaid',
      '--summary',
      summary,
    ]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toMatch(
      /^<details open><summary>octo-org\/app: keep \d+, delete \d+ of \d+ versions<\/summary>\n\n```mermaid\nflowchart LR\n/,
    );
    expect(outcome.stdout).toContain(':::delete');
    expect(outcome.stdout).toContain(':::keep');
    const markdown = await readFile(summary, 'utf8');
    expect(markdown).toContain('## ghcr cleanup: plan only (--apply deletes)');
    expect(markdown).toMatch(/\| `octo-org\/app` \| \d+ \| \d+ \| \d+ \| 0 \| 0 \|/);
    expect(markdown).toContain('```mermaid\nflowchart LR');
  });

  it('refuses flags that need --owner, and --owner without names or --all', async () => {
    for (const argv of [
      ['cleanup', '--all'],
      ['cleanup', 'octo-org/app', '--budget', '10'],
      ['cleanup', '--owner', 'big-org'],
      ['cleanup', '--owner', 'big-org', '--all', 'app'],
      ['cleanup', 'octo-org/app', '--format', 'svg'],
    ]) {
      const outcome = await api(argv);
      expect(outcome.code, argv.join(' ')).toBe(2);
      expect(outcome.stderr).toMatch(/^error: GHCR_USAGE: /);
    }
  });
});
