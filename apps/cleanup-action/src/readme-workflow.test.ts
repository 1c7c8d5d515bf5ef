/**
 * The README's organisation workflow, run step by step as the runner would: the cache steps
 * simulated (a key → directory store), the action itself in-process with the runner's environment
 * (`INPUT_*` from `with:` and action.yml's defaults, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
 * `GITHUB_TOKEN`, `GITHUB_WORKSPACE`), against `ghcr serve`'s loopback server with GitHub's hourly
 * limit of 1,000 API requests per token. An organisation of 200 packages needs more than that, so
 * the first hourly run stops and the second continues where it stopped.
 *
 * One clock for both sides: the simulation's, which the action's waits (GitHub's secondary limit
 * paces DELETEs to ~180 a minute) advance instead of sleeping.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { staticCredentials } from '@ghcr/auth';
import { createGhcrClient, type GhcrClient } from '@ghcr/client';
import { type Clock, createManualClock } from '@ghcr/oci-types';
import {
  type OrganizationSeed,
  type SimulationServer,
  seedOrganization,
  startSimulationServer,
} from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ActionResult, runAction } from './run-action.js';
import { parseOutputsFile, pullCompletely } from './testing/support.js';

interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly uses: string;
  readonly if?: string;
  readonly with?: Readonly<Record<string, string | number | boolean>>;
}
interface Workflow {
  readonly concurrency?: string;
  readonly jobs: Readonly<Record<string, { readonly steps: readonly Step[] }>>;
}
interface ActionYaml {
  readonly inputs: Readonly<Record<string, { readonly default?: string }>>;
  readonly runs: { readonly using: string; readonly main: string };
}

const readmeUrl = new URL('../README.md', import.meta.url);
const actionUrl = new URL('../action.yml', import.meta.url);

/** The README's workflow: the YAML block that keeps a state file. */
async function readmeWorkflow(): Promise<Workflow> {
  const readme = await readFile(readmeUrl, 'utf8');
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
  const block = blocks.find((text) => text.includes('state-file:') && text.includes('actions/cache'));
  if (block === undefined) throw new Error('the README has no workflow with a state-file and a cache');
  return parse(block) as Workflow;
}

const HOUR = 3_600_000;

let server: SimulationServer;
let seed: OrganizationSeed;
let reader: GhcrClient;
let workspace: string;
const manual = createManualClock(Date.parse('2026-07-01T00:00:00Z'));
/** The action's clock: its waits move the simulation's time on. */
const clock: Clock = {
  now: () => manual.now(),
  sleep: async (ms) => {
    await manual.advance(ms);
  },
};

beforeAll(async () => {
  server = await startSimulationServer({
    port: 0,
    simulationOptions: { profile: 'ghcr', clock: manual, apiRateLimit: { limit: 1000 } },
  });
  seed = await seedOrganization(server.simulation, { owner: 'big-org', packages: 200, releases: 2 });
  reader = createGhcrClient({
    registry: server.url,
    flavor: 'ghcr',
    credentials: staticCredentials({ username: seed.admin, password: seed.token }),
    versions: { apiUrl: server.apiUrl },
    clock,
  });
  workspace = await mkdtemp(join(tmpdir(), 'cleanup-action-workflow-'));
}, 300_000);

afterAll(async () => {
  await reader?.close();
  await server?.close();
  if (workspace !== undefined) await rm(workspace, { recursive: true, force: true });
});

/** `${{ github.x }}` in a `with:` value or an input default, from the run's context. */
function evaluate(value: string, github: Readonly<Record<string, string>>): string {
  return value.replace(/\$\{\{\s*github\.([a-z_]+)\s*\}\}/g, (_whole, name: string) => {
    const found = github[name];
    if (found === undefined) throw new Error(`the simulated runner has no github.${name}`);
    return found;
  });
}

interface RunOutcome {
  readonly result: ActionResult;
  readonly outputs: Record<string, string>;
  readonly summary: string;
  readonly stdout: string;
  readonly apiRequests: number;
  readonly refused: number;
}

/** The hosted cache: key → saved directory. */
const cache = new Map<string, string>();

async function runWorkflow(runId: number): Promise<RunOutcome> {
  const workflow = await readmeWorkflow();
  const action = parse(await readFile(actionUrl, 'utf8')) as ActionYaml;
  const [job] = Object.values(workflow.jobs);
  if (job === undefined) throw new Error('the workflow has no job');
  // Each run starts on a fresh runner: an empty workspace.
  const runDirectory = join(workspace, `run-${runId}`);
  const checkout = join(runDirectory, 'workspace');
  await mkdir(checkout, { recursive: true });
  const github = {
    run_id: String(runId),
    token: seed.token,
    api_url: server.apiUrl,
    repository_owner: seed.owner,
  };
  let outcome: RunOutcome | undefined;
  let failed = false;
  for (const step of job.steps) {
    if (failed && step.if !== 'always()') continue;
    const inputs = Object.fromEntries(
      Object.entries(step.with ?? {}).map(([name, value]) => [name, evaluate(String(value), github)]),
    );
    if (step.uses.startsWith('actions/cache/restore@')) {
      const path = join(checkout, inputs.path ?? '');
      const key = cache.has(inputs.key ?? '')
        ? inputs.key
        : [...cache.keys()]
            .reverse()
            .find((candidate) => candidate.startsWith(inputs['restore-keys'] ?? '\0'));
      if (key !== undefined) await cp(cache.get(key) as string, path, { recursive: true });
    } else if (step.uses.startsWith('actions/cache/save@')) {
      // actions/cache/save warns and saves nothing when the path does not exist.
      const saved = join(runDirectory, 'cache');
      const source = join(checkout, inputs.path ?? '');
      if (existsSync(source)) {
        await cp(source, saved, { recursive: true });
        cache.set(inputs.key ?? '', saved);
      }
    } else if (step.uses.startsWith('ghcr-ts/ghcr/apps/cleanup-action@')) {
      expect(action.runs.using).toBe('node24');
      const env: Record<string, string> = {
        GITHUB_OUTPUT: join(runDirectory, 'output'),
        GITHUB_STEP_SUMMARY: join(runDirectory, 'summary.md'),
        GITHUB_TOKEN: seed.token,
        GITHUB_API_URL: server.apiUrl,
        GITHUB_REPOSITORY_OWNER: seed.owner,
        GITHUB_WORKSPACE: checkout,
      };
      await writeFile(env.GITHUB_OUTPUT as string, '');
      await writeFile(env.GITHUB_STEP_SUMMARY as string, '');
      // What the runner passes: every input of action.yml, given or defaulted. The one change to
      // the README's step: the registry is the loopback server, not ghcr.io.
      const given: Record<string, string> = { ...inputs, registry: server.url };
      for (const [name, input] of Object.entries(action.inputs)) {
        const value = given[name] ?? (input.default === undefined ? '' : evaluate(input.default, github));
        env[`INPUT_${name.toUpperCase()}`] = value;
      }
      const before = server.simulation.log.entries.length;
      let stdout = '';
      const result = await runAction(env, {
        clock,
        write: (text) => {
          stdout += text;
        },
      });
      const api = server.simulation.log.entries
        .slice(before)
        .filter((entry) => entry.path.startsWith('/api/'));
      outcome = {
        result,
        stdout,
        outputs: parseOutputsFile(await readFile(env.GITHUB_OUTPUT as string, 'utf8')),
        summary: await readFile(env.GITHUB_STEP_SUMMARY as string, 'utf8'),
        apiRequests: api.length,
        refused: api.filter((entry) => entry.status === 403 || entry.status === 429).length,
      };
      failed = result.exitCode !== 0;
    } else {
      throw new Error(`the simulated runner does not know ${step.uses}`);
    }
  }
  if (outcome === undefined) throw new Error('the workflow has no step running the action');
  return outcome;
}

describe("the README's organisation workflow against ghcr serve", () => {
  it('cleans 200 packages within 1,000 API requests an hour, across two runs, the second resuming', async () => {
    const first = await runWorkflow(1);
    expect(first.result.exitCode, first.stdout.slice(0, 3000)).toBe(0);
    // At most 1,000 requests in GitHub's hour, so its primary limit never refused one; the pacing
    // keeps the secondary limit's refusals rare (a DELETE sent as the simulation's minute had not
    // quite turned: waited for and sent again, within the budget).
    expect(first.apiRequests).toBeLessThanOrEqual(1000);
    expect(first.refused).toBeLessThanOrEqual(5);
    expect(first.outputs.requests).toBe(String(first.apiRequests));
    expect(first.outputs.complete).toBe('false');
    const pending = JSON.parse(first.outputs.pending ?? '[]') as string[];
    expect(pending.length).toBeGreaterThan(0);
    expect(JSON.parse(first.outputs.matrix ?? '[]')).toHaveLength(200);
    const finishedFirst = first.result.packages.filter((result) => result.status === 'done');
    expect(finishedFirst.length + pending.length).toBe(200);
    expect(first.stdout).toContain('::notice title=GHCR cleanup::stopped before the API budget runs out');
    expect(first.summary).toContain(`GitHub API requests: ${first.apiRequests} of a budget of 1000.`);
    expect(first.summary).toContain(`${pending.length} of 200 packages are left for the next run`);
    expect(first.summary).toContain('| `big-org/pkg-001` | 10 | 5 | 5 | 0 | ✅ |');
    expect(first.summary).toContain('```mermaid\nflowchart LR');

    // The next hourly run: GitHub's window has reset; the cache brings the state file back.
    await manual.advance(HOUR);
    const second = await runWorkflow(2);
    expect(second.result.exitCode).toBe(0);
    expect(second.apiRequests).toBeLessThanOrEqual(1000);
    expect(second.refused).toBeLessThanOrEqual(5);
    expect(second.outputs.complete).toBe('true');
    expect(JSON.parse(second.outputs.pending ?? '[]')).toEqual([]);
    // Resumed: only the packages the first run left, and far fewer requests than a fresh start.
    expect(second.result.packages.map((result) => result.package)).toEqual(pending);
    expect(second.apiRequests).toBeLessThan(first.apiRequests);
    expect(second.stdout).toContain(`${200 - pending.length} finished by an earlier run of this cycle`);

    // Every package holds exactly its newest release, and it pulls completely.
    for (const pkg of seed.packages) {
      const newest = pkg.releases.at(-1);
      const versions = await reader.versions.list(`${seed.owner}/${pkg.name}`);
      expect(versions.map((version) => version.name).sort()).toEqual(
        [
          newest?.index.digest,
          ...(newest?.platforms.map((image) => image.digest) ?? []),
          ...(newest?.attestations.map((attestation) => attestation.digest) ?? []),
        ].sort(),
      );
    }
    for (const pkg of [seed.packages[0], seed.packages.at(-1)]) {
      expect(await pullCompletely(reader, `${seed.owner}/${pkg?.name}`, '1.1.0')).toBe(8);
    }
  }, 600_000);
});
