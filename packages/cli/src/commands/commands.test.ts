import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoSeed, type SimulationServer, seedDemo, startSimulationServer } from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instantClock, runCli } from '../testing/io.js';
import type { InspectResult } from './inspect.js';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

interface Bed {
  server: SimulationServer;
  seed: DemoSeed;
  registry: string;
  env: Record<string, string | undefined>;
}

async function startBed(directory: string, profile: 'ghcr' | 'distribution'): Promise<Bed> {
  const server = await startSimulationServer({ simulationOptions: { profile } });
  const seed = await seedDemo(server.simulation);
  const registry = new URL(server.url).host;
  const dockerConfig = join(directory, profile, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  const auth = Buffer.from(`octocat:${seed.tokens.all}`).toString('base64');
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry]: { auth } } }));
  return {
    server,
    seed,
    registry,
    env: { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH },
  };
}

let directory: string;
let ghcr: Bed;
let distribution: Bed;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-commands-'));
  ghcr = await startBed(directory, 'ghcr');
  distribution = await startBed(directory, 'distribution');
});

afterAll(async () => {
  await ghcr?.server.close();
  await distribution?.server.close();
  await rm(directory, { recursive: true, force: true });
});

const latestOf = (bed: Bed) => bed.seed.app.releases[bed.seed.app.releases.length - 1];

describe('ghcr tags', () => {
  it('--json prints { registry, repository, tags }', async () => {
    const outcome = await runCli(['tags', `${ghcr.registry}/octo-org/app`, '--json'], { env: ghcr.env });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    const document = JSON.parse(outcome.stdout) as { registry: string; repository: string; tags: string[] };
    expect(Object.keys(document)).toEqual(['registry', 'repository', 'tags']);
    expect(document.registry).toBe(ghcr.registry);
    expect(document.repository).toBe('octo-org/app');
    expect(document.tags).toEqual(expect.arrayContaining(['1.0.0', '1.1.0', 'latest', 'dev']));
    expect(outcome.stdout.endsWith('}\n')).toBe(true);
    expect(outcome.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints one tag per line, every page', async () => {
    const json = JSON.parse(
      (await runCli(['tags', `${ghcr.registry}/octo-org/many`, '--json'], { env: ghcr.env })).stdout,
    ) as {
      tags: string[];
    };
    const outcome = await runCli(['tags', `${ghcr.registry}/octo-org/many`], { env: ghcr.env });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe(`${json.tags.join('\n')}\n`);
    expect(json.tags).toHaveLength(25);
  });

  it('without credentials fails with a hint to log in', async () => {
    const outcome = await runCli(['tags', `${ghcr.registry}/octo-org/app`], {
      env: { HOME: directory, DOCKER_CONFIG: join(directory, 'nothing-here') },
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trimEnd()).toMatch(
      new RegExp(
        `^error: UNAUTHORIZED: GET "http://${ghcr.registry}/v2/octo-org/app/tags/list": status 401: .*\\. Log in with "ghcr login ${ghcr.registry}"; "--debug" shows which credentials were used\\.$`,
      ),
    );
  });
});

describe('ghcr inspect', () => {
  it('--json describes an index: children with platforms, the distinct platforms', async () => {
    const outcome = await runCli(['inspect', `${ghcr.registry}/octo-org/app:latest`, '--json'], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as InspectResult;
    const latest = latestOf(ghcr);
    expect(result).toMatchObject({
      registry: ghcr.registry,
      repository: 'octo-org/app',
      reference: 'latest',
      digest: latest?.index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: latest?.index.parsed.size,
      kind: 'oci-index',
      platforms: ['linux/amd64', 'linux/arm64/v8'],
    });
    expect(result.manifests?.map((entry) => entry.platform)).toEqual([
      'linux/amd64',
      'linux/arm64/v8',
      'unknown/unknown',
      'unknown/unknown',
    ]);
    expect(result.manifests?.[0]?.digest).toBe(latest?.platforms[0]?.digest);
    expect(result.config).toBeUndefined();
  });

  it('--platform picks the index’s manifest for it and describes config and layers', async () => {
    const outcome = await runCli(
      ['inspect', `${ghcr.registry}/octo-org/app:latest`, '--platform', 'linux/arm64', '--json'],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const result = JSON.parse(outcome.stdout) as InspectResult;
    const latest = latestOf(ghcr);
    const arm = latest?.platforms[1];
    expect(result.kind).toBe('oci-manifest');
    expect(result.digest).toBe(arm?.digest);
    expect(result.reference).toBe(arm?.digest);
    expect(result.index).toEqual({
      digest: latest?.index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: latest?.index.parsed.size,
    });
    expect(result.config).toMatchObject({ digest: arm?.config.digest, platform: 'linux/arm64/v8' });
    expect(result.config?.labels).toEqual({
      'org.opencontainers.image.source': 'https://github.com/octo-org/app',
    });
    expect(result.layers?.map((layer) => layer.digest)).toEqual(arm?.layers.map((layer) => layer.digest));
    const layerBytes = (result.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);
    expect(result.totalSize).toBe((result.config?.size ?? 0) + layerBytes);
  });

  it('--raw prints the exact manifest bytes', async () => {
    const outcome = await runCli(['inspect', `${ghcr.registry}/octo-org/app:latest`, '--raw'], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    expect(sha256(outcome.stdoutBytes)).toBe(latestOf(ghcr)?.index.digest);
    const child = await runCli(
      ['inspect', `${ghcr.registry}/octo-org/app:latest`, '--raw', '--platform', 'linux/amd64'],
      {
        env: ghcr.env,
      },
    );
    expect(sha256(child.stdoutBytes)).toBe(latestOf(ghcr)?.platforms[0]?.digest);
  });

  it('prints a readable summary', async () => {
    const outcome = await runCli(
      ['inspect', `${ghcr.registry}/octo-org/app:1.0.0`, '--platform', 'linux/amd64'],
      {
        env: ghcr.env,
      },
    );
    expect(outcome.code).toBe(0);
    const first = ghcr.seed.app.releases[0];
    const lines = outcome.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Reference:  ${ghcr.registry}/octo-org/app@${first?.platforms[0]?.digest}`);
    expect(lines).toContain(`Index:      ${first?.index.digest} (application/vnd.oci.image.index.v1+json)`);
    expect(lines).toContain('Platform:   linux/amd64');
    expect(lines).toContain('Labels:');
    expect(lines.some((line) => /^Layers: +1 \(\d+ B with the config\)$/.test(line))).toBe(true);
  });

  it('fails with the platforms there are when the index lacks the one asked for', async () => {
    const outcome = await runCli(
      ['inspect', `${ghcr.registry}/octo-org/app:latest`, '--platform', 'windows/amd64'],
      {
        env: ghcr.env,
      },
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trimEnd()).toBe(
      `error: MANIFEST_UNKNOWN: ${ghcr.registry}/octo-org/app:latest has no manifest for windows/amd64; it has linux/amd64, linux/arm64/v8. Check the reference; "ghcr tags <repository>" lists the tags.`,
    );
  });

  it('--platform on a single-platform image checks that it is that platform', async () => {
    const hello = `${ghcr.registry}/octocat/hello:latest`;
    const same = await runCli(['inspect', hello, '--platform', 'linux/amd64', '--json'], { env: ghcr.env });
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({
      kind: 'docker-manifest',
      config: { platform: 'linux/amd64' },
    });
    const other = await runCli(['inspect', hello, '--platform', 'linux/arm64'], { env: ghcr.env });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(
      /^error: MANIFEST_UNKNOWN: .*\/octocat\/hello:latest is a single-platform image for linux\/amd64, not linux\/arm64\. /,
    );
  });

  it('fails with MANIFEST_UNKNOWN for a tag that does not exist', async () => {
    const outcome = await runCli(['inspect', `${ghcr.registry}/octo-org/app:nope`], { env: ghcr.env });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(
      /^error: MANIFEST_UNKNOWN: .*"ghcr tags <repository>" lists the tags\.\n$/,
    );
  });

  it('--debug logs each request with signed blob URLs redacted, and never a credential', async () => {
    const outcome = await runCli(
      ['--debug', 'inspect', `${ghcr.registry}/octo-org/app:latest`, '--platform', 'linux/amd64'],
      { env: ghcr.env },
    );
    expect(outcome.code).toBe(0);
    const lines = outcome.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `debug: credentials for ${ghcr.registry}: docker config ${ghcr.env.DOCKER_CONFIG}/config.json (auths: ${ghcr.registry})`,
    );
    const blobGets = lines.filter((line) => line.includes(' blobs.get'));
    expect(blobGets[0]).toMatch(
      new RegExp(
        `^debug: GET http://${ghcr.registry}/v2/octo-org/app/blobs/sha256:[0-9a-f]{64} → 307 \\(\\d+ ms\\) blobs\\.get$`,
      ),
    );
    expect(blobGets[1]).toMatch(
      /^debug: GET http:\/\/127\.0\.0\.1:\d+\/ghcr1\/blobs\/sha256:[0-9a-f]{64}\?.*sig=REDACTED.* → 200 \(\d+ ms\) blobs\.get$/,
    );
    expect(outcome.stderr).not.toMatch(/sig=(?!REDACTED)/);
    const token = ghcr.seed.tokens.all;
    for (const secret of [
      token,
      Buffer.from(token).toString('base64'),
      Buffer.from(`octocat:${token}`).toString('base64'),
    ]) {
      expect(outcome.stderr).not.toContain(secret);
    }
  });
});

describe('ghcr tag / untag / delete on the ghcr profile', () => {
  it('tag --json puts more tags on the manifest', async () => {
    const source = ghcr.seed.app.releases[0];
    const outcome = await runCli(
      ['tag', `${ghcr.registry}/octo-org/app:1.0.0`, 'stable', 'lts', 'stable', '--json'],
      {
        env: ghcr.env,
      },
    );
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({
      registry: ghcr.registry,
      repository: 'octo-org/app',
      source: '1.0.0',
      digest: source?.index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      size: source?.index.parsed.size,
      tags: ['stable', 'lts'],
    });
    const inspect = await runCli(['inspect', `${ghcr.registry}/octo-org/app:lts`, '--json'], {
      env: ghcr.env,
    });
    expect((JSON.parse(inspect.stdout) as InspectResult).digest).toBe(source?.index.digest);
  });

  it('tag prints each new reference with its digest', async () => {
    const digest = ghcr.seed.app.releases[0]?.index.digest;
    const outcome = await runCli(['tag', `${ghcr.registry}/octo-org/app@${digest}`, 'candidate'], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe(`${ghcr.registry}/octo-org/app:candidate@${digest}\n`);
  });

  it('untag leaves a placeholder where the registry cannot delete, and says how to finish', async () => {
    const digest = ghcr.seed.app.releases[0]?.index.digest;
    const outcome = await runCli(['untag', `${ghcr.registry}/octo-org/app:lts`], { env: ghcr.env });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe(`untagged ${ghcr.registry}/octo-org/app:lts (was ${digest})\n`);
    expect(outcome.stderr).toMatch(
      new RegExp(
        `^${ghcr.registry.replace(/\./g, '\\.')} cannot delete tags: .*:lts now points at a placeholder manifest (sha256:[0-9a-f]{64})\\. Delete that package version to finish: ghcr versions delete octo-org/app \\1\\n$`,
      ),
    );
    const json = await runCli(['untag', `${ghcr.registry}/octo-org/app:stable`, '--json'], { env: ghcr.env });
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const result = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(result).toEqual({
      registry: ghcr.registry,
      repository: 'octo-org/app',
      tag: 'stable',
      method: 'placeholder',
      previousDigest: digest,
      placeholderDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const now = await runCli(['inspect', `${ghcr.registry}/octo-org/app:stable`, '--json'], {
      env: ghcr.env,
    });
    expect((JSON.parse(now.stdout) as InspectResult).digest).toBe(result.placeholderDigest);
  });

  it('--quiet keeps the note off stderr', async () => {
    const outcome = await runCli(['--quiet', 'untag', `${ghcr.registry}/octo-org/app:candidate`], {
      env: ghcr.env,
    });
    expect(outcome.code).toBe(0);
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toMatch(/^untagged /);
  });

  it('delete explains that deletion goes through the Packages API', async () => {
    const digest = ghcr.seed.app.orphan.digest;
    const outcome = await runCli(['delete', `${ghcr.registry}/octo-org/app@${digest}`], { env: ghcr.env });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trimEnd()).toMatch(
      new RegExp(
        `^error: UNSUPPORTED: cannot delete manifest .*: this registry does not allow deletes .*\\. If ${ghcr.registry.replace(/\./g, '\\.')} is a GHCR \\(ghcr\\.io, or "ghcr serve" in its default ghcr profile\\), delete the package version instead: ghcr versions delete octo-org/app ${digest}$`,
      ),
    );
  });
});

describe('ghcr untag / delete on a registry that deletes', () => {
  it('untag deletes the tag and keeps the image', async () => {
    const digest = distribution.seed.app.releases[0]?.index.digest;
    await runCli(['tag', `${distribution.registry}/octo-org/app:1.0.0`, 'old'], { env: distribution.env });
    const outcome = await runCli(['untag', `${distribution.registry}/octo-org/app:old`, '--json'], {
      env: distribution.env,
    });
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({
      registry: distribution.registry,
      repository: 'octo-org/app',
      tag: 'old',
      method: 'deleted',
      previousDigest: digest,
    });
    const tags = await runCli(['tags', `${distribution.registry}/octo-org/app`, '--json'], {
      env: distribution.env,
    });
    expect((JSON.parse(tags.stdout) as { tags: string[] }).tags).not.toContain('old');
    const still = await runCli(['inspect', `${distribution.registry}/octo-org/app@${digest}`, '--json'], {
      env: distribution.env,
    });
    expect(still.code).toBe(0);
  });

  it('delete resolves a tag to its digest and deletes the manifest', async () => {
    const digest = distribution.seed.app.dev.digest;
    const outcome = await runCli(['delete', `${distribution.registry}/octo-org/app:dev`, '--json'], {
      env: distribution.env,
    });
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({
      registry: distribution.registry,
      repository: 'octo-org/app',
      digest,
      resolvedFrom: 'dev',
      deleted: true,
    });
    const gone = await runCli(['inspect', `${distribution.registry}/octo-org/app@${digest}`], {
      env: distribution.env,
    });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error: MANIFEST_UNKNOWN: /);
  });

  it('delete by digest prints what it deleted', async () => {
    const digest = distribution.seed.app.orphan.digest;
    const outcome = await runCli(['delete', `${distribution.registry}/octo-org/app@${digest}`], {
      env: distribution.env,
    });
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toBe(`deleted ${distribution.registry}/octo-org/app@${digest}\n`);
  });
});

describe('ghcr login / logout (in-process, against the served registry)', () => {
  it('checks the credentials, stores them as docker login does, keeps the rest of config.json', async () => {
    const dockerConfig = join(directory, 'login-docker');
    await mkdir(dockerConfig, { recursive: true });
    const other = {
      auths: { 'example.com': { auth: 'eDp5' } },
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
    };
    await writeFile(join(dockerConfig, 'config.json'), JSON.stringify(other));
    const env = { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH };
    const token = ghcr.seed.tokens.read;
    const outcome = await runCli(['login', ghcr.registry, '-u', 'octocat', '--password-stdin', '--json'], {
      env,
      stdin: `${token}\n`,
    });
    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({
      registry: ghcr.registry,
      username: 'octocat',
      configPath: join(dockerConfig, 'config.json'),
      verified: true,
    });
    const written = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(written).toEqual({
      ...other,
      auths: {
        ...other.auths,
        [ghcr.registry]: { auth: Buffer.from(`octocat:${token}`).toString('base64') },
      },
    });
    const tags = await runCli(['tags', `${ghcr.registry}/octo-org/app`], { env });
    expect(tags.code).toBe(0);

    const logout = await runCli(['logout', ghcr.registry, '--json'], { env });
    expect(logout.code).toBe(0);
    expect(JSON.parse(logout.stdout)).toEqual({
      registry: ghcr.registry,
      removed: true,
      configPath: join(dockerConfig, 'config.json'),
    });
    expect(JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8'))).toEqual(other);
    const again = await runCli(['logout', ghcr.registry], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`not logged in to ${ghcr.registry}\n`);
  });

  it('refuses wrong credentials, stores nothing and never prints the password', async () => {
    const dockerConfig = join(directory, 'login-wrong');
    const env = { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH };
    const password = 'ghp_wrongwrongwrongwrongwrong1234';
    const outcome = await runCli(['--debug', 'login', ghcr.registry, '-u', 'octocat', '--password-stdin'], {
      env,
      stdin: password,
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(
      new RegExp(
        `\\nerror: GHCR_AUTH_FAILED: ${ghcr.registry.replace(/\./g, '\\.')} refused the credentials of "octocat" \\(.*\\); nothing was stored\\.`,
      ),
    );
    for (const secret of [
      password,
      Buffer.from(password).toString('base64'),
      Buffer.from(`octocat:${password}`).toString('base64'),
    ]) {
      expect(outcome.stderr).not.toContain(secret);
    }
    await expect(readFile(join(dockerConfig, 'config.json'), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});

describe('--plain-http', () => {
  it('speaks plain HTTP to a registry that is not localhost or 127.0.0.1 only when asked', async () => {
    // 127.0.0.2 is loopback on Linux, but not one of the hosts that get plain HTTP automatically.
    const server = await startSimulationServer({
      host: '127.0.0.2',
      simulationOptions: { profile: 'distribution' },
    });
    try {
      await seedDemo(server.simulation);
      const registry = new URL(server.url).host;
      const env = { HOME: directory, DOCKER_CONFIG: join(directory, 'plain-http'), PATH: process.env.PATH };
      const https = await runCli(['tags', `${registry}/octocat/hello`], { env, clock: instantClock() });
      expect(https.code).toBe(1);
      expect(https.stderr).toMatch(
        new RegExp(
          `^error: [A-Z_]+: GET "https://${registry.replace(/\./g, '\\.')}/v2/octocat/hello/tags/list"`,
        ),
      );
      expect(https.stderr).toMatch(/The registry answered in plain HTTP, not HTTPS: add --plain-http\.\n$/);
      const plain = await runCli(['--plain-http', 'tags', `${registry}/octocat/hello`], { env });
      expect(plain.code).toBe(0);
      expect(plain.stdout).toBe('latest\n');
    } finally {
      await server.close();
    }
  });
});
