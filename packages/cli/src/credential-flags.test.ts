import { type DemoSeed, type SimulationServer, seedDemo, startSimulationServer } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './testing/io.js';

interface Bed {
  readonly server: SimulationServer;
  readonly seed: DemoSeed;
  readonly registry: string;
}

async function startBed(): Promise<Bed> {
  const server = await startSimulationServer({ simulationOptions: { profile: 'distribution' } });
  const seed = await seedDemo(server.simulation);
  return { server, seed, registry: new URL(server.url).host };
}

/** No config.json, no token variables: only what the command line or DOCKER_AUTH_CONFIG gives. */
const bareEnv = { HOME: '/nonexistent-home', PATH: process.env.PATH };

let source: Bed;
let destination: Bed;
beforeAll(async () => {
  source = await startBed();
  destination = await startBed();
});
afterAll(async () => {
  await source?.server.close();
  await destination?.server.close();
});

describe('credentials on the command line', () => {
  it('--creds USER:PASSWORD reaches the registry, and --debug names the source, never the secret', async () => {
    const token = source.seed.tokens.read;
    const anonymous = await runCli(['tags', `${source.registry}/${source.seed.app.repository}`], {
      env: bareEnv,
    });
    expect(anonymous.code).toBe(1);
    const outcome = await runCli(
      [
        '--debug',
        'tags',
        `${source.registry}/${source.seed.app.repository}`,
        '--creds',
        `octocat:${token}`,
        '--json',
      ],
      { env: bareEnv },
    );
    expect(outcome.code).toBe(0);
    expect((JSON.parse(outcome.stdout) as { tags: string[] }).tags.length).toBeGreaterThan(0);
    expect(outcome.stderr).toContain(`credentials for ${source.registry}: command line (--creds)`);
    expect(outcome.stderr).not.toContain(token);
    expect(outcome.stderr).not.toContain(Buffer.from(`octocat:${token}`).toString('base64'));
  });

  it('--username with --password-stdin reads the secret from stdin', async () => {
    const outcome = await runCli(
      ['tags', `${source.registry}/${source.seed.app.repository}`, '-u', 'octocat', '--password-stdin'],
      { env: bareEnv, stdin: `${source.seed.tokens.read}\n` },
    );
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).not.toBe('');
  });

  it('a user without a password, stdin or terminal is a usage error that says how to give it', async () => {
    const outcome = await runCli(
      ['tags', `${source.registry}/${source.seed.app.repository}`, '--creds', 'octocat'],
      {
        env: bareEnv,
      },
    );
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('--creds octocat has no password');
    expect(outcome.stderr).toContain('--password-stdin');
  });

  it('copies between two registries with --src-creds and --dest-creds, each credential only where it works', async () => {
    // Each registry accepts only its own token: a credential sent to the wrong one fails the copy.
    expect(source.seed.tokens.read).not.toBe(destination.seed.tokens.all);
    const swapped = await runCli(
      [
        'tags',
        `${source.registry}/${source.seed.app.repository}`,
        '--creds',
        `octocat:${destination.seed.tokens.all}`,
      ],
      { env: bareEnv },
    );
    expect(swapped.code).toBe(1);
    source.server.simulation.log.clear();
    destination.server.simulation.log.clear();
    const outcome = await runCli(
      [
        'copy',
        `${source.registry}/${source.seed.app.repository}:${source.seed.app.releases[0]?.tag ?? 'latest'}`,
        `${destination.registry}/mirror/app:copied`,
        '--src-creds',
        `octocat:${source.seed.tokens.read}`,
        '--dest-creds',
        `octocat:${destination.seed.tokens.all}`,
        '--json',
      ],
      { env: bareEnv },
    );
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    const sourceTokens = source.server.simulation.log.filter((entry) => entry.operation === 'token');
    const destinationTokens = destination.server.simulation.log.filter(
      (entry) => entry.operation === 'token',
    );
    expect(sourceTokens.length).toBeGreaterThan(0);
    expect(destinationTokens.length).toBeGreaterThan(0);
    expect([...sourceTokens, ...destinationTokens].every((entry) => entry.status === 200)).toBe(true);
  });

  it('refuses --creds for a copy between two registries (one credential, two registries)', async () => {
    const outcome = await runCli(
      ['copy', `${source.registry}/a/b:1`, `${destination.registry}/a/b:1`, '--creds', 'octocat:x'],
      { env: bareEnv },
    );
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('use --src-creds and --dest-creds');
  });

  it('takes credentials from DOCKER_AUTH_CONFIG', async () => {
    const auth = Buffer.from(`octocat:${source.seed.tokens.read}`).toString('base64');
    const outcome = await runCli(['--debug', 'tags', `${source.registry}/${source.seed.app.repository}`], {
      env: { ...bareEnv, DOCKER_AUTH_CONFIG: JSON.stringify({ auths: { [source.registry]: { auth } } }) },
    });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toContain(
      `credentials for ${source.registry}: DOCKER_AUTH_CONFIG (auths: ${source.registry})`,
    );
  });
});
