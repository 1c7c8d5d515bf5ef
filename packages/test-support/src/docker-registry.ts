/**
 * Debian's `docker-registry` (CNCF distribution 2.8, see shared/reference/toolchain.md) for
 * integration tests and benchmarks: a free loopback port, storage in a directory of its own,
 * deletes enabled, optionally an access log on disk and bearer-token auth.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import { type AccessLogEntry, parseAccessLog } from './access-log.js';
import { findBinary, installHint } from './binaries.js';
import { freePort } from './free-port.js';

/**
 * Bearer-token auth (`auth.token` of the registry's configuration): the registry sends clients to
 * `realm` for a JWT and checks its signature, issuer, audience (`service`), expiry and scopes.
 * @internal
 */
export interface DockerRegistryTokenAuth {
  /** The token endpoint clients are sent to (`WWW-Authenticate: Bearer realm=…`). */
  readonly realm: string;
  /** The service name the tokens must carry as audience. */
  readonly service: string;
  /** The issuer (`iss`) the tokens must carry. */
  readonly issuer: string;
  /** Path of a PEM file with the certificate of the key that signs the tokens (see `createTokenSigningKey`). */
  readonly rootCertBundle: string;
}

/**
 * Options of {@link startDockerRegistry}.
 * @internal
 */
export interface DockerRegistryOptions {
  /**
   * The registry's directory: its configuration, storage (`data/`) and access log. Created; if it
   * exists, its contents are replaced. `stop()` removes it unless told to keep it. If omitted, a
   * new temporary directory.
   */
  readonly directory?: string;
  /**
   * Keep the access log (and the registry's own log lines) in `access.log` in the directory, so
   * `accessLog()` can count the requests served. If omitted, false: the access log is off and the
   * output is only kept in memory for `logs()`.
   */
  readonly accessLog?: boolean;
  /** Bearer-token auth. If omitted, anonymous access with every operation allowed. */
  readonly tokenAuth?: DockerRegistryTokenAuth;
  /** How long one attempt waits for `/v2/` to answer, in ms. If omitted, 20 000. */
  readonly readyTimeoutMs?: number;
  /** Attempts, each on a new free port (another process may take the port first). If omitted, 3. */
  readonly attempts?: number;
  /** The program: a name looked up on `PATH`, or a path. If omitted, `docker-registry`. */
  readonly binary?: string;
  /**
   * Keep what `directory` already holds (its `data/`): start the registry again over the storage a
   * stopped one left (`stop({ keepStorage: true })`), as a restart does. If omitted, false.
   */
  readonly keepData?: boolean;
}

/**
 * Options of {@link DockerRegistry.stop}.
 * @internal
 */
export interface DockerRegistryStopOptions {
  /** Leave the directory (configuration, storage, access log) on disk. If omitted, false: it is removed. */
  readonly keepStorage?: boolean;
}

/**
 * A running registry.
 * @internal
 */
export interface DockerRegistry {
  /** `127.0.0.1:<port>`: what a reference or `createGhcrClient({ registry })` takes. */
  readonly host: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The loopback port it listens on. */
  readonly port: number;
  /** The process id (for `/proc` statistics). */
  readonly pid: number;
  /** The registry's directory (configuration, `data/`, `access.log`). */
  readonly storageDir: string;
  /** The last 64 KiB the process printed (for failure messages). */
  logs(): string;
  /**
   * The requests served so far, from the access log. Empty unless started with `accessLog: true`.
   */
  accessLog(): Promise<AccessLogEntry[]>;
  /** CPU time (user + system, ms) the process has used so far, from `/proc`; undefined where there is none. */
  cpuTimeMs(): Promise<number | undefined>;
  /** Stops the process (SIGTERM, SIGKILL after 5 s) and removes the directory. Safe to call twice. */
  stop(options?: DockerRegistryStopOptions): Promise<void>;
}

/** How much of the process's output `logs()` keeps. */
const LOG_TAIL_BYTES = 64 * 1024;
/** How long `stop()` waits after SIGTERM before SIGKILL. */
const KILL_AFTER_MS = 5000;
/** Pause between two readiness probes. */
const PROBE_INTERVAL_MS = 50;
/** `/proc/<pid>/stat` counts CPU time in clock ticks: USER_HZ, 100 on Linux. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * The registry's configuration file (distribution 2.8 `config.yml`).
 * @internal
 */
export function dockerRegistryConfig(options: {
  readonly port: number;
  readonly rootDirectory: string;
  readonly accessLog: boolean;
  readonly tokenAuth?: DockerRegistryTokenAuth | undefined;
}): string {
  const { tokenAuth } = options;
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    ...(options.accessLog ? [] : ['  accesslog:', '    disabled: true']),
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${options.rootDirectory}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${options.port}`,
    ...(tokenAuth === undefined
      ? []
      : [
          'auth:',
          '  token:',
          `    realm: ${tokenAuth.realm}`,
          `    service: ${tokenAuth.service}`,
          `    issuer: ${tokenAuth.issuer}`,
          `    rootcertbundle: ${tokenAuth.rootCertBundle}`,
        ]),
    '',
  ].join('\n');
}

/** The status `GET url` answers with, or undefined when nothing answers (yet). */
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

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exited(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function closed(stream: WriteStream | undefined): Promise<void> {
  if (stream === undefined || stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.end(() => resolve()));
}

async function processCpuMs(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // utime and stime are fields 14 and 15 of the line; counted after the `(name)` field (which may
  // hold spaces), they are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : undefined;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `docker-registry serve <directory>/config.yml` on a free loopback port and waits until
 * `/v2/` answers (200; 401 with `tokenAuth`). Throws `ConfigError` when the program is not there
 * (the message has the install command) or did not answer after every attempt (the message has
 * its output).
 * @internal
 */
export async function startDockerRegistry(options: DockerRegistryOptions = {}): Promise<DockerRegistry> {
  const name = options.binary ?? 'docker-registry';
  const binary = findBinary(name);
  if (binary === undefined) {
    throw new ConfigError(`${name} not found on PATH: install it with \`${installHint([name])}\``, {
      field: 'binary',
    });
  }
  const attempts = options.attempts ?? 3;
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const accessLog = options.accessLog ?? false;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'ghcr-docker-registry-')));
  let lastOutput = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.keepData !== true) await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { recursive: true });
    const port = await freePort();
    const configPath = join(directory, 'config.yml');
    const logPath = join(directory, 'access.log');
    await writeFile(
      configPath,
      dockerRegistryConfig({
        port,
        rootDirectory: join(directory, 'data'),
        accessLog,
        tokenAuth: options.tokenAuth,
      }),
    );
    const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    const logFile = accessLog ? createWriteStream(logPath) : undefined;
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
      logFile?.write(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);

    let stopping: Promise<void> | undefined;
    const stop = (stopOptions: DockerRegistryStopOptions = {}): Promise<void> => {
      stopping ??= (async () => {
        if (!hasExited(child) && spawnError === undefined) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
          await exited(child);
          clearTimeout(timer);
        }
        await closed(logFile);
        if (stopOptions.keepStorage !== true) await rm(directory, { recursive: true, force: true });
      })();
      return stopping;
    };

    const url = `http://127.0.0.1:${port}`;
    // A real process on a real port: readiness is polled against the wall clock (no Clock to inject).
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline && !hasExited(child) && spawnError === undefined) {
      const status = await probe(`${url}/v2/`);
      // With token auth, /v2/ answers 401 with a challenge once the registry is up.
      if (status === 200 || (options.tokenAuth !== undefined && status === 401)) {
        const pid = child.pid;
        if (pid === undefined) break;
        return {
          host: `127.0.0.1:${port}`,
          url,
          port,
          pid,
          storageDir: directory,
          logs: () => output,
          accessLog: async () =>
            accessLog ? parseAccessLog(await readFile(logPath, 'utf8').catch(() => '')) : [],
          cpuTimeMs: () => processCpuMs(pid),
          stop,
        };
      }
      await delay(PROBE_INTERVAL_MS);
    }
    lastOutput = spawnError === undefined ? output : `${output}\n${spawnError.message}`;
    // Keep nothing from a failed attempt: the next one starts afresh (and the last one cleans up),
    // unless the storage is a restart's to keep.
    await stop({ keepStorage: options.keepData === true });
  }
  throw new ConfigError(
    `${name} did not answer on /v2/ (${attempts} attempt(s), ${readyTimeoutMs} ms each); ` +
      `check that \`${binary} serve\` runs here. Its last output:\n${lastOutput.trim()}`,
    { field: 'binary' },
  );
}
