/**
 * Test harness: Debian's `docker-registry` (CNCF distribution 2.8) on a free loopback port, its
 * storage in a temporary directory, deletes enabled, no auth. The minimal start/stop of
 * `@ghcr/client`'s harness (packages do not import each other's test code).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How to install the registry the integration tests run. */
export const INSTALL_HINT = 'apt-get update && apt-get install -y docker-registry';

/** A running registry. */
export interface DockerRegistry {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** What the process printed (for failure messages). */
  logs(): string;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its storage. */
  stop(): Promise<void>;
}

/** Where `docker-registry` is on PATH, if it is. */
export function findDockerRegistry(): string | undefined {
  for (const directory of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(directory, 'docker-registry');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * Whether the tests can run; when the binary is missing, why (with the install command), and
 * whether that must fail the run (`CI=true`) rather than skip it.
 */
export function dockerRegistryAvailability(): { available: boolean; mustFail: boolean; reason: string } {
  if (findDockerRegistry() !== undefined) return { available: true, mustFail: false, reason: '' };
  return {
    available: false,
    mustFail: process.env.CI === 'true',
    reason: `docker-registry not found on PATH: install it with \`${INSTALL_HINT}\` to run these tests`,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const outgoing = request(url, { method: 'GET', timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    outgoing.on('error', () => resolve(undefined));
    outgoing.on('timeout', () => {
      outgoing.destroy();
      resolve(undefined);
    });
    outgoing.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts `docker-registry serve CONFIG` and waits until `/v2/` answers 200 (3 attempts on port races). */
export async function startDockerRegistry(): Promise<DockerRegistry> {
  const binary = findDockerRegistry();
  if (binary === undefined) throw new Error(`docker-registry not found: ${INSTALL_HINT}`);
  let lastOutput = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const storage = await mkdtemp(join(tmpdir(), 'ghcr-cli-registry-'));
    const port = await freePort();
    const config = join(storage, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: true',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(storage, 'data')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    const child = spawn(binary, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited(child);
        clearTimeout(timer);
      }
      await rm(storage, { recursive: true, force: true });
    };
    // Readiness is polled against the real process (no clock to inject): at most 20 s.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && child.exitCode === null) {
      if ((await probe(`http://127.0.0.1:${port}/v2/`)) === 200) {
        return { host: `127.0.0.1:${port}`, logs: () => output, stop };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    lastOutput = output;
    await stop();
  }
  throw new Error(`docker-registry did not start (3 attempts); its output:\n${lastOutput}`);
}
