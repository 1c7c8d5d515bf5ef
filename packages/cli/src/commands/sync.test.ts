import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncReport } from '@ghcr/client';
import { type DemoSeed, type SimulationServer, seedDemo, startSimulationServer } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/io.js';

let directory: string;
let source: SimulationServer;
let target: SimulationServer;
let seed: DemoSeed;
let env: Record<string, string | undefined>;
let from: string;
let to: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-sync-'));
  source = await startSimulationServer({ simulationOptions: { profile: 'distribution' } });
  target = await startSimulationServer({ simulationOptions: { profile: 'ghcr' } });
  seed = await seedDemo(source.simulation);
  const targetSeed = await seedDemo(target.simulation);
  from = new URL(source.url).host;
  to = new URL(target.url).host;
  const dockerConfig = join(directory, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  const auth = (token: string) => Buffer.from(`octocat:${token}`).toString('base64');
  await writeFile(
    join(dockerConfig, 'config.json'),
    JSON.stringify({
      auths: { [from]: { auth: auth(seed.tokens.all) }, [to]: { auth: auth(targetSeed.tokens.all) } },
    }),
  );
  env = { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH };
});

afterAll(async () => {
  await source?.close();
  await target?.close();
  await rm(directory, { recursive: true, force: true });
});

async function configFile(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await writeFile(path, text);
  return path;
}

describe('ghcr sync', () => {
  it('plans, copies, then finds everything in sync; --json is the report', async () => {
    const config = await configFile(
      'mirrors.yml',
      `sync:\n  - source: ${from}/${seed.app.repository}\n    target: ${to}/octo-org/mirror\n    tags: { semver: '>=1' }\n`,
    );
    const plan = await runCli(['sync', config, '--dry-run'], { env });
    expect(plan.code).toBe(0);
    const versions = seed.app.releases.map((release) => release.tag);
    for (const tag of versions) {
      expect(plan.stdout).toContain(
        `copy ${from}/${seed.app.repository}:${tag} → ${to}/octo-org/mirror:${tag} (missing at the target)`,
      );
    }
    expect(plan.stdout).toContain(`${versions.length} to copy, 0 in sync`);
    expect(plan.stderr).toContain('not semver, skipped by the range >=1: ');

    const run = await runCli(['sync', config, '--json'], { env });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as SyncReport;
    expect(report.status).toBe('in-sync');
    expect(report.counts.copied).toBe(versions.length);
    for (const item of report.items) {
      const release = seed.app.releases.find((r) => item.source.endsWith(`:${r.tag}`));
      expect(item.sourceDigest).toBe(release?.index.descriptor.digest);
    }

    const again = await runCli(['sync', config], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`0 copied, ${versions.length} in sync\n`);
  });

  it('a bad config is a usage error naming the file, line and field', async () => {
    const config = await configFile(
      'bad.yml',
      `sync:\n  - source: ${from}/a\n    target: ${to}/b\n    tags: { newest: 0 }\n`,
    );
    const outcome = await runCli(['sync', config], { env });
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain(`${config}:4: sync.0.tags.newest`);
  });
});
