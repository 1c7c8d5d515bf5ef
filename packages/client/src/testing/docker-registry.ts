/**
 * Test harness: Debian's `docker-registry` (CNCF distribution 2.8) on a free loopback port with
 * its storage in a temporary directory and deletes enabled (reference/toolchain.md).
 * Not part of the published API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How to install what the integration tests need. @internal */
export const INSTALL_HINT = 'apt-get update && apt-get install -y docker-registry skopeo';

/** A running registry. @internal */
export interface DockerRegistry {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  readonly storageDir: string;
  /** What the process printed (for failure messages). */
  logs(): string;
  /** Stops the process (SIGTERM, then SIGKILL) and removes its storage. */
  stop(): Promise<void>;
}

/** Where a binary is on PATH (or the given absolute path), if it is executable. @internal */
export function findBinary(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((dir) => join(dir, name));
  for (const candidate of candidates) {
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
 * Whether the integration tests can run: the binaries are present; when they are not, the reason
 * (with the install command) and whether that must fail the run (`CI=true`).
 * @internal
 */
export function integrationAvailability(binaries: readonly string[] = ['docker-registry']): {
  readonly available: boolean;
  readonly mustFail: boolean;
  readonly reason: string;
} {
  const missing = binaries.filter((binary) => findBinary(binary) === undefined);
  if (missing.length === 0) return { available: true, mustFail: false, reason: '' };
  return {
    available: false,
    mustFail: process.env.CI === 'true',
    reason: `${missing.join(' and ')} not found on PATH: install with \`${INSTALL_HINT}\` to run the integration tests`,
  };
}

/** A free TCP port on loopback (the OS picks; there is a small race until the registry binds it). @internal */
export async function freePort(): Promise<number> {
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
    const req = request(url, { method: 'GET', timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `docker-registry serve CONFIG.yml` and waits until `/v2/` answers.
 * @internal
 */
export async function startDockerRegistry(
  options: {
    readonly readyTimeoutMs?: number;
    /** Bearer-token auth (`auth.token`): the realm, service and issuer the tokens must carry, and
     * the PEM certificate file of the key that signs them. If omitted, no auth. */
    readonly tokenAuth?: {
      readonly realm: string;
      readonly service: string;
      readonly issuer: string;
      readonly rootCertBundle: string;
    };
  } = {},
): Promise<DockerRegistry> {
  const binary = findBinary('docker-registry');
  if (binary === undefined) throw new Error(`docker-registry not found: ${INSTALL_HINT}`);
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const storageDir = await mkdtemp(join(tmpdir(), 'ghcr-client-registry-'));
    const port = await freePort();
    const config = [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(storageDir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      ...(options.tokenAuth === undefined
        ? []
        : [
            'auth:',
            '  token:',
            `    realm: ${options.tokenAuth.realm}`,
            `    service: ${options.tokenAuth.service}`,
            `    issuer: ${options.tokenAuth.issuer}`,
            `    rootcertbundle: ${options.tokenAuth.rootCertBundle}`,
          ]),
      '',
    ].join('\n');
    const configPath = join(storageDir, 'config.yml');
    await writeFile(configPath, config);
    const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-64 * 1024);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const url = `http://127.0.0.1:${port}`;
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited(child);
        clearTimeout(timer);
      }
      await rm(storageDir, { recursive: true, force: true });
    };
    const deadline = Date.now() + readyTimeoutMs;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null) {
      const status = await probe(`${url}/v2/`);
      // With token auth, /v2/ answers 401 with a challenge once the registry is up.
      if (status === 200 || (options.tokenAuth !== undefined && status === 401)) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (ready) {
      return { host: `127.0.0.1:${port}`, url, port, storageDir, logs: () => output, stop };
    }
    lastError = output;
    await stop();
  }
  throw new Error(`docker-registry did not start (3 attempts); its output:\n${lastError}`);
}
