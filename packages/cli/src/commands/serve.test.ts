import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../run.js';
import { instantClock, runCli, testIo } from '../testing/io.js';
import type { ServeResult } from './serve.js';

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-serve-'));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** Starts `ghcr serve …` in-process; resolves its first JSON line and a stop function. */
async function serve(argv: readonly string[]) {
  const controller = new AbortController();
  const { io, stdout, stderr } = testIo({ signal: controller.signal });
  const running = run(['serve', '--port', '0', ...argv], io);
  const [line] = await Promise.race([
    stdout.waitFor(/^.*\n/),
    running.then((code) => {
      throw new Error(`serve exited with ${code}: ${stderr.text}`);
    }),
  ]);
  return {
    stdout,
    stderr,
    line,
    async stop(): Promise<number> {
      controller.abort('SIGTERM');
      return running;
    },
  };
}

// Each test starts servers and runs several commands in-process: more than the default 5 s under load.
describe('ghcr serve', { timeout: 30_000 }, () => {
  it('--json prints one line with the URL, API URL and a token that works; stops cleanly on the signal', async () => {
    const token = 'ghp_localdevelopmenttoken0000000000000';
    const server = await serve(['--json', '--seed', 'demo', '--token', token]);
    const result = JSON.parse(server.line) as ServeResult;
    const url = new URL(result.url);
    expect(result).toEqual({
      url: `http://127.0.0.1:${url.port}`,
      registry: `127.0.0.1:${url.port}`,
      apiUrl: `http://127.0.0.1:${url.port}/api`,
      blobUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      profile: 'ghcr',
      token,
      user: 'octocat',
      seed: 'demo',
      pid: process.pid,
    });
    expect(Number(url.port)).toBeGreaterThan(0);

    const env = { HOME: directory, DOCKER_CONFIG: join(directory, 'serve-json'), PATH: process.env.PATH };
    const login = await runCli(['login', result.registry, '-u', 'octocat', '--password-stdin'], {
      env,
      stdin: token,
    });
    expect(login.code).toBe(0);
    const tags = await runCli(['tags', `${result.registry}/octo-org/app`, '--json'], { env });
    expect(tags.code).toBe(0);
    expect((JSON.parse(tags.stdout) as { tags: string[] }).tags).toContain('latest');
    // The token may write too (it has every packages scope).
    expect((await runCli(['tag', `${result.registry}/octocat/hello:latest`, 'v1'], { env })).code).toBe(0);

    expect(await server.stop()).toBe(0);
    expect(server.stdout.text.split('\n').filter((line) => line !== '')).toHaveLength(1);
    expect(server.stderr.text).toBe('');
    const after = await runCli(['tags', `${result.registry}/octo-org/app`], { env, clock: instantClock() });
    expect(after.code).toBe(1);
    expect(after.stderr).toMatch(/^error: GHCR_CONNECTION_FAILED: /);
  });

  it('prints how to use it, and keeps its state in --data across restarts', async () => {
    const data = join(directory, 'data');
    const first = await serve(['--seed', 'demo', '--data', data]);
    await first.stdout.waitFor(/stop with Ctrl-C/);
    const text = first.stdout.text;
    const registry = /registry: http:\/\/(127\.0\.0\.1:\d+)/.exec(text)?.[1];
    const token = /token: +(ghp_\w+)/.exec(text)?.[1];
    expect(registry).toBeDefined();
    expect(token).toBeDefined();
    expect(text).toContain(`log in:  echo ${token} | ghcr login ${registry} -u octocat --password-stdin`);
    expect(text).toContain(`data:     ${data}`);
    expect(text).toContain('demo:     octo-org/app (multi-arch), octo-org/many, octocat/hello');
    const env = { HOME: directory, DOCKER_CONFIG: join(directory, 'serve-data-1'), PATH: process.env.PATH };
    await runCli(['login', `${registry}`, '-u', 'octocat', '--password-stdin'], { env, stdin: `${token}` });
    expect((await runCli(['tag', `${registry}/octo-org/app:1.0.0`, 'kept'], { env })).code).toBe(0);
    expect(await first.stop()).toBe(0);
    expect(first.stderr.text).toContain('ghcr serve: stopped (SIGTERM)');

    const second = await serve(['--seed', 'demo', '--data', data, '--json']);
    const result = JSON.parse(second.line) as ServeResult;
    expect(result.seed).toBeUndefined();
    expect(result.data).toBe(data);
    const env2 = { HOME: directory, DOCKER_CONFIG: join(directory, 'serve-data-2'), PATH: process.env.PATH };
    await runCli(['login', result.registry, '-u', 'octocat', '--password-stdin'], {
      env: env2,
      stdin: result.token,
    });
    const tags = await runCli(['tags', `${result.registry}/octo-org/app`, '--json'], { env: env2 });
    expect((JSON.parse(tags.stdout) as { tags: string[] }).tags).toContain('kept');
    expect(await second.stop()).toBe(0);
  });

  it('--profile dockerhub serves a Docker Hub stand-in: token host, CDN and docker.io web host apart, quota headers', async () => {
    const server = await serve(['--json', '--profile', 'dockerhub', '--seed', 'demo']);
    const result = JSON.parse(server.line) as ServeResult;
    expect(result).toMatchObject({
      profile: 'dockerhub',
      seed: 'demo',
      tokenUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/token$/),
      webUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    const hosts = new Set([result.url, result.blobUrl, result.webUrl, new URL(result.tokenUrl ?? '').origin]);
    expect(hosts.size).toBe(4);
    // Anonymous, as Hub allows for public repositories; the realm is on the token host.
    const env = { HOME: directory, DOCKER_CONFIG: join(directory, 'serve-hub'), PATH: process.env.PATH };
    const tags = await runCli(['tags', `${result.registry}/library/alpine`, '--json'], { env });
    expect(tags.code).toBe(0);
    expect((JSON.parse(tags.stdout) as { tags: string[] }).tags).toEqual(['3', '3.20', 'latest']);
    // --debug shows the pull quota each manifest answer carried.
    const inspected = await runCli(['--debug', 'inspect', `${result.registry}/library/alpine:3`], { env });
    expect(inspected.code).toBe(0);
    const manifestGets = inspected.stderr
      .split('\n')
      .filter((line) => /^debug: GET \S+\/manifests\/\S+ → 200/.test(line));
    expect(manifestGets.length).toBeGreaterThan(0);
    expect(manifestGets.at(-1)).toMatch(
      new RegExp(`; rate limit docker-pulls: ${100 - manifestGets.length}/100 left per 6h$`),
    );
    const challenge = await fetch(`${result.url}/v2/`);
    expect(challenge.headers.get('www-authenticate')).toBe(
      `Bearer realm="${result.tokenUrl}",service="registry.docker.io"`,
    );
    const { token } = (await (
      await fetch(`${result.tokenUrl}?service=registry.docker.io&scope=repository:library/alpine:pull`)
    ).json()) as { token: string };
    const manifest = await fetch(`${result.url}/v2/library/alpine/manifests/3`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.index.v1+json' },
    });
    expect(manifest.status).toBe(200);
    // Only manifest GETs counted: inspect's, then this one.
    expect(manifest.headers.get('ratelimit-remaining')).toBe(`${99 - manifestGets.length};w=21600`);
    expect(manifest.headers.get('docker-ratelimit-source')).toBe('127.0.0.1');
    expect(await server.stop()).toBe(0);
  });

  it("prints the Docker Hub stand-in's hosts", async () => {
    const server = await serve(['--profile', 'dockerhub']);
    const [, registry, tokenHost, cdn, web] = server.stdout.text.split('\n');
    expect(server.line).toBe('ghcr serve: a local Docker Hub stand-in is listening\n');
    expect(registry).toMatch(/^ {2}registry: +http:\/\/127\.0\.0\.1:\d+ {2}\(references: /);
    expect(tokenHost).toMatch(/^ {2}token host: +http:\/\/127\.0\.0\.1:\d+\/token$/);
    expect(cdn).toMatch(/^ {2}CDN: +http:\/\/127\.0\.0\.1:\d+$/);
    expect(web).toMatch(/^ {2}docker\.io: +http:\/\/127\.0\.0\.1:\d+ {2}\(a web host/);
    expect(await server.stop()).toBe(0);
  });

  it('fails with exit 1 and a way out when the port is taken', async () => {
    const server = await serve(['--json']);
    const port = new URL((JSON.parse(server.line) as ServeResult).url).port;
    const clash = await runCli(['serve', '--port', port]);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toBe(
      `error: GHCR_ADDRESS_IN_USE: cannot listen on 127.0.0.1:${port}: the port is in use; pick another with --port, or --port 0 for a free one\n`,
    );
    expect(await server.stop()).toBe(0);
  });
});
