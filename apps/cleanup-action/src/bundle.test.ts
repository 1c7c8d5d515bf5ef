/**
 * The bundle as the runner runs it: built with the action's own tsup options (into a temporary
 * directory, so the test never depends on a stale dist/; `.ci/run` checks the committed dist/ is
 * the same build), then started under Node 24 (`runs.using: node24`) as `node index.js` with
 * INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and GITHUB_TOKEN, against the simulation's
 * loopback server, as `ghcr serve` runs it (real sockets; nothing leaves 127.0.0.1).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { staticCredentials } from '@ghcr/auth';
import { createGhcrClient, type GhcrClient } from '@ghcr/client';
import {
  type DemoSeed,
  type OrganizationSeed,
  type SimulationServer,
  seedDemo,
  seedOrganization,
  startSimulationServer,
} from '@ghcr/simulation';
import { node24Availability } from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { build } from 'tsup';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bundleOptions } from '../tsup.config.js';
import type { VersionEntry } from './summary.js';
import { actionEnvironment, attachSarif, parseOutputsFile, pullCompletely } from './testing/support.js';

const node24 = node24Availability();

describeWithBinaries(
  node24,
  'the built bundle (dist/index.js) under Node 24, as a child process against the loopback simulation',
  () => {
    let directory: string;
    let bundle: string;
    let server: SimulationServer;
    let seed: DemoSeed;
    let client: GhcrClient;

    beforeAll(async () => {
      directory = await mkdtemp(join(tmpdir(), 'cleanup-action-bundle-'));
      await build({
        ...bundleOptions,
        entry: { index: fileURLToPath(new URL('./main.ts', import.meta.url)) },
        outDir: join(directory, 'dist'),
        sourcemap: false,
        silent: true,
        config: false,
      });
      // The runner starts dist/index.js from the action's directory, whose package.json says "type": "module".
      await writeFile(join(directory, 'package.json'), JSON.stringify({ type: 'module' }));
      bundle = join(directory, 'dist', 'index.js');
      server = await startSimulationServer({ port: 0, simulationOptions: { profile: 'ghcr' } });
      seed = await seedDemo(server.simulation, { releases: 2, manyVersions: 2 });
      client = createGhcrClient({
        registry: server.url,
        flavor: 'ghcr',
        credentials: staticCredentials({ username: seed.admin, password: seed.tokens.all }),
        versions: { apiUrl: server.apiUrl },
      });
    }, 120_000);

    afterAll(async () => {
      await client?.close();
      await server?.close();
      if (directory !== undefined) await rm(directory, { recursive: true, force: true });
    });

    const readers: GhcrClient[] = [];
    afterAll(async () => {
      for (const reader of readers) await reader.close();
    });
    /** A client with the organisation admin's token. */
    function orgReader(org: OrganizationSeed): GhcrClient {
      const reader = createGhcrClient({
        registry: server.url,
        flavor: 'ghcr',
        credentials: staticCredentials({ username: org.admin, password: org.token }),
        versions: { apiUrl: server.apiUrl },
      });
      readers.push(reader);
      return reader;
    }

    function runBundle(
      env: Record<string, string>,
    ): Promise<{ code: number | null; stdout: string; stderr: string }> {
      return new Promise((resolve, reject) => {
        // Only what the runner would give: no inherited GITHUB_* or INPUT_* of the machine running the tests.
        const child = spawn(node24.node ?? process.execPath, [bundle], {
          env: { PATH: process.env.PATH ?? '', ...env },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString('utf8');
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString('utf8');
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    }
    it('cleans up, runs the gate, and writes the outputs file and the job summary', async () => {
      const [v1] = seed.many.versions;
      if (v1 === undefined) throw new Error('the demo version is missing');
      await attachSarif(client, seed.many.repository, v1.digest, 'CVE-2024-0001', '5.3'); // medium
      const before = await client.versions.list(seed.app.repository);
      const outputFile = join(directory, 'output');
      const summaryFile = join(directory, 'summary.md');
      await writeFile(outputFile, '');
      await writeFile(summaryFile, '');

      const { code, stdout, stderr } = await runBundle(
        actionEnvironment(
          {
            owner: seed.owner,
            packages: 'app',
            'keep-n-tagged': '1',
            'keep-tags': 'latest',
            'dry-run': 'false',
            // The test pushed these seconds ago; the default minAge (10 minutes) would leave them alone.
            'min-age': '0',
            'gate-image': `${seed.many.repository}:v1`,
            'gate-fail-on': 'high',
            // The SARIF report attached above is unsigned: the trusting mode is asked for explicitly.
            'gate-allow-unverified': 'true',
            registry: server.url,
            'api-url': server.apiUrl,
          },
          // The token as a runner gives it to a step that passes none: GITHUB_TOKEN.
          { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_TOKEN: seed.tokens.all },
        ),
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);

      const outputs = parseOutputsFile(await readFile(outputFile, 'utf8'));
      expect(Object.keys(outputs).sort()).toEqual([
        'broken',
        'complete',
        'deleted',
        'dry-run',
        'failed',
        'gate-passed',
        'kept',
        'matrix',
        'pending',
        'requests',
        'sync-status',
        'synced',
      ]);
      expect(outputs.matrix).toBe('["app"]');
      expect(outputs.complete).toBe('true');
      // Owner type, one page of versions, the look again before the delete batch, six deletions.
      expect(outputs.requests).toBe('9');
      expect(outputs['gate-passed']).toBe('true');
      expect(outputs['dry-run']).toBe('false');
      const deleted = JSON.parse(outputs.deleted ?? '') as VersionEntry[];
      const [old] = seed.app.releases;
      // Release 1.0.0 (index, 2 platforms, 2 attestations) and the orphaned untagged image.
      expect(deleted.map((entry) => entry.digest)).toEqual(
        expect.arrayContaining([old?.index.digest, seed.app.orphan.digest]),
      );
      expect(deleted).toHaveLength(6);
      expect(deleted.every((entry) => entry.outcome === 'deleted')).toBe(true);
      expect(JSON.parse(outputs.failed ?? '')).toEqual([]);
      const kept = JSON.parse(outputs.kept ?? '') as VersionEntry[];
      expect(kept).toHaveLength(before.length - 6);

      const after = await client.versions.list(seed.app.repository);
      expect(after.map((version) => version.id).sort()).toEqual(kept.map((entry) => entry.id).sort());
      for (const tag of await client.tags.list(seed.app.repository)) {
        expect(await pullCompletely(client, seed.app.repository, tag)).toBeGreaterThan(0);
      }

      const summary = await readFile(summaryFile, 'utf8');
      expect(summary).toContain('## GHCR cleanup: applied');
      expect(summary).toContain('| Package | Versions | Deleted | Kept | Failed | Status |');
      expect(summary).toContain(`| \`octo-org/app\` | ${before.length} | 6 | ${kept.length} | 0 | ✅ |`);
      expect(summary).toContain('### Vulnerability gate');
      expect(summary).toContain('✅ passed');
      expect(summary).toContain('### Deleted');
      expect(summary).toContain('```mermaid\nflowchart LR');

      // The token: masked first, and nowhere else.
      expect(stdout.startsWith(`::add-mask::${seed.tokens.all}\n`)).toBe(true);
      const logLines = stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
      for (const text of [logLines.join('\n'), JSON.stringify(outputs), summary]) {
        expect(text).not.toContain(seed.tokens.all);
      }
      expect(stdout).toContain('::group::Clean up octo-org/app');
      expect(stdout).toContain('::notice title=Vulnerability gate::gate passed for octo-org/many:v1');
    }, 60_000);

    it('stops at its API budget and the next run continues from the state file', async () => {
      const org = await seedOrganization(server.simulation, {
        owner: 'small-org',
        admin: 'small-admin',
        packages: 6,
      });
      const stateFile = join(directory, 'state', 'cleanup.json');
      const run = async (name: string) => {
        const outputFile = join(directory, `${name}-output`);
        await writeFile(outputFile, '');
        const result = await runBundle(
          actionEnvironment(
            {
              owner: org.owner,
              packages: '*',
              'keep-n-tagged': '1',
              'dry-run': 'false',
              // The test pushed these seconds ago; the default minAge (10 minutes) would leave them alone.
              'min-age': '0',
              budget: '23',
              'state-file': stateFile,
              registry: server.url,
              'api-url': server.apiUrl,
            },
            { GITHUB_OUTPUT: outputFile, GITHUB_TOKEN: org.token },
          ),
        );
        return { ...result, outputs: parseOutputsFile(await readFile(outputFile, 'utf8')) };
      };
      const first = await run('first');
      expect(first.code).toBe(0);
      // Owner type and the package list (2), then 7 per package (versions page, the look again
      // before the delete batch, 5 deletions): 3 packages fit in 23.
      expect(first.outputs.requests).toBe('23');
      expect(first.outputs.complete).toBe('false');
      expect(JSON.parse(first.outputs.pending ?? '')).toEqual(['pkg-004', 'pkg-005', 'pkg-006']);
      const second = await run('second');
      expect(second.code).toBe(0);
      expect(second.outputs.complete).toBe('true');
      expect(second.outputs.requests).toBe('23');
      expect(second.stdout).toContain('3 finished by an earlier run of this cycle (state file) are skipped');
      for (const pkg of org.packages) {
        expect(await orgReader(org).versions.list(`${org.owner}/${pkg.name}`)).toHaveLength(5);
      }
    }, 60_000);

    it('exits 1 with a clear ::error:: naming a bad input', async () => {
      const { code, stdout } = await runBundle(
        actionEnvironment({
          owner: seed.owner,
          packages: 'app',
          token: seed.tokens.all,
          'keep-n-untagged': 'ten',
        }),
      );
      expect(code).toBe(1);
      expect(stdout).toContain(
        '::error title=Invalid input "keep-n-untagged"::input "keep-n-untagged": must be a whole number, 0 or more',
      );
    }, 60_000);
  },
);
