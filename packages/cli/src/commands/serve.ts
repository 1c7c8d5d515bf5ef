import { resolve } from 'node:path';
import { definedProps, GhcrError, systemClock } from '@ghcr/oci-types';
import type { PackageScope, SimulationServer } from '@ghcr/simulation';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import type { CommandContext } from '../context.js';
import { usageError } from '../errors.js';
import { alignedFields } from '../format.js';
import { useLongRunningV8Settings } from '../v8-settings.js';

/**
 * `--json` shape of `ghcr serve` (one line, printed once the server listens).
 * @public
 */
export interface ServeResult {
  /** Registry base URL, e.g. `http://127.0.0.1:5000`. */
  readonly url: string;
  /** The registry as references name it: `127.0.0.1:5000` (`127.0.0.1:5000/<owner>/<name>:<tag>`). */
  readonly registry: string;
  /** GitHub REST API base URL (Packages API), `<url>/api`: pass it as `--api-url`. */
  readonly apiUrl: string;
  /** Where blob downloads are redirected (ghcr profile; dockerhub's CDN); equals `url` in the distribution profile. */
  readonly blobUrl: string;
  readonly profile: 'ghcr' | 'distribution' | 'dockerhub';
  /** dockerhub profile: the token endpoint, on a host (port) of its own as auth.docker.io is. */
  readonly tokenUrl?: string;
  /** dockerhub profile: the stand-in for the docker.io web host, whose `/v2/…` redirects to a web page. */
  readonly webUrl?: string;
  /** A personal access token with read, write and delete packages scopes. */
  readonly token: string;
  /** The user the token belongs to. */
  readonly user: string;
  /** The data directory (`--data`), absent when the state lives in memory. */
  readonly data?: string;
  /**
   * The seed applied (`demo`: GHCR's demo, or in the dockerhub profile `library/alpine`,
   * `library/busybox` and `<user>/private`), absent without `--seed` or when the data directory had it already.
   */
  readonly seed?: 'demo';
  /** Process id of the server, to stop it with SIGTERM. */
  readonly pid: number;
}

const ALL_SCOPES: readonly PackageScope[] = ['read:packages', 'write:packages', 'delete:packages'];
const DEMO_OWNER = 'octo-org';
const HUB_DEMO_QUOTA = '100 manifest GETs per 6 hours per address';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(port) || port > 65_535) {
    throw new InvalidArgumentError(`expected a port from 0 to 65535 (0 picks a free one), got "${value}".`);
  }
  return port;
}

function checkToken(value: string): string {
  if (value.trim() === '' || /\s/.test(value)) {
    throw new InvalidArgumentError('expected a token without white space, e.g. ghp_localdevtoken.');
  }
  return value;
}

interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly profile: 'ghcr' | 'distribution' | 'dockerhub';
  readonly data?: string;
  readonly seed?: 'demo';
  readonly token?: string;
  readonly user: string;
}

/** Resolves when the run's signal aborts or the process gets SIGINT/SIGTERM. */
function shutdownRequested(context: CommandContext): Promise<string> {
  const signal = context.io.signal;
  if (signal !== undefined) {
    const reason = (): string => (typeof signal.reason === 'string' ? signal.reason : 'stop requested');
    return new Promise((resolve) => {
      if (signal.aborted) resolve(reason());
      else signal.addEventListener('abort', () => resolve(reason()), { once: true });
    });
  }
  return new Promise((resolve) => {
    const stop = (name: string) => () => {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onTerminate);
      resolve(name);
    };
    const onInterrupt = stop('SIGINT');
    const onTerminate = stop('SIGTERM');
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onTerminate);
  });
}

async function start(options: ServeOptions): Promise<SimulationServer> {
  const { startSimulationServer } = await import('@ghcr/simulation');
  try {
    return await startSimulationServer({
      host: options.host,
      port: options.port,
      simulationOptions: {
        profile: options.profile,
        // Real time: tokens and signed blob URLs expire, versions get real creation dates.
        clock: systemClock,
        store: options.data === undefined ? { kind: 'memory' } : { kind: 'disk', directory: options.data },
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new GhcrError(
        `cannot listen on ${options.host}:${options.port}: the port is in use; pick another with --port, or --port 0 for a free one`,
        { code: 'GHCR_ADDRESS_IN_USE', cause: error },
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new GhcrError(
        `cannot listen on ${options.host}:${options.port} (${code}); use an address of this machine (127.0.0.1) and a port above 1023`,
        { code: 'GHCR_ADDRESS_UNAVAILABLE', cause: error },
      );
    }
    throw error;
  }
}

const PROFILE_TITLES = {
  ghcr: 'GitHub Container Registry',
  distribution: 'OCI registry',
  dockerhub: 'Docker Hub stand-in',
} as const;

function renderServe(result: ServeResult, seeded: boolean): string[] {
  const hub = result.profile === 'dockerhub';
  const lines = [
    `ghcr serve: a local ${PROFILE_TITLES[result.profile]} is listening`,
    ...alignedFields([
      ['  registry', `${result.url}  (references: ${result.registry}/<owner>/<name>:<tag>)`],
      ['  API', hub ? undefined : `${result.apiUrl}  (--api-url ${result.apiUrl})`],
      ['  token host', result.tokenUrl],
      ['  CDN', hub ? result.blobUrl : undefined],
      [
        '  docker.io',
        result.webUrl === undefined ? undefined : `${result.webUrl}  (a web host: /v2/… redirects to a page)`,
      ],
      ['  token', `${result.token}  (user ${result.user}; read, write and delete packages)`],
      ['  data', result.data ?? 'in memory: gone when the server stops (--data DIR keeps it)'],
      [
        '  demo',
        seeded
          ? hub
            ? `library/alpine (two platforms, public), library/busybox (public), ${result.user}/private; pull quota ${HUB_DEMO_QUOTA}`
            : `${DEMO_OWNER}/app (multi-arch), ${DEMO_OWNER}/many, octocat/hello`
          : undefined,
      ],
    ]),
    `log in:  echo ${result.token} | ghcr login ${result.registry} -u ${result.user} --password-stdin`,
    'stop with Ctrl-C (or SIGTERM)',
  ];
  return lines;
}

/**
 * `ghcr serve`: a local GHCR (the simulation on a loopback server) until SIGINT/SIGTERM.
 * @internal
 */
export const registerServeCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('serve')
    .description('run a local GHCR (registry, token endpoint, Packages API) until interrupted')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', parsePort, 5000)
    .addOption(
      new Option(
        '--profile <profile>',
        "ghcr (GHCR's behaviour), distribution (a spec-conformant registry) or dockerhub (Docker Hub: token host, pull quota, CDN)",
      )
        .choices(['ghcr', 'distribution', 'dockerhub'])
        .default('ghcr'),
    )
    .option('--data <dir>', 'keep blobs and metadata in this directory across restarts (default: in memory)')
    .addOption(
      new Option(
        '--seed <name>',
        'create demo content: octo-org/app, octo-org/many, octocat/hello (dockerhub: library/alpine, library/busybox)',
      ).choices(['demo']),
    )
    .option('--token <pat>', 'accept this token (default: a new ghp_… token is made)', checkToken)
    .option('--user <login>', "the token's user, created if needed (admin of the demo's octo-org)", 'octocat')
    .action(async (_options: unknown, command: Command) => {
      // A server runs until it is stopped: V8's defaults, not the short command's settings.
      useLongRunningV8Settings();
      const context = contextOf(runtime, command);
      const raw = command.opts<{
        host: string;
        port: number;
        profile: 'ghcr' | 'distribution' | 'dockerhub';
        data?: string;
        seed?: 'demo';
        token?: string;
        user: string;
      }>();
      if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(raw.user)) {
        throw usageError(
          `--user "${raw.user}" is not a GitHub login: 1 to 39 letters, digits or "-", not starting with "-"`,
        );
      }
      const options: ServeOptions = {
        host: raw.host,
        port: raw.port,
        profile: raw.profile,
        user: raw.user,
        ...(raw.data === undefined ? {} : { data: resolve(raw.data) }),
        ...definedProps({ seed: raw.seed, token: raw.token }),
      };
      const server = await start(options);
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await server.close();
        server.simulation.state.flush();
      };
      context.onClose(close);
      const simulation = server.simulation;
      let seeded = false;
      if (options.seed === 'demo' && options.profile === 'dockerhub') {
        if (simulation.state.getOwner('library') === undefined) {
          const { seedDockerHub } = await import('@ghcr/simulation');
          await seedDockerHub(simulation, { user: options.user });
          seeded = true;
        } else {
          context.output.note('the data directory has library/ already: not seeding it again');
        }
      } else if (options.seed === 'demo') {
        if (simulation.state.getOwner(DEMO_OWNER) === undefined) {
          const { seedDemo } = await import('@ghcr/simulation');
          await seedDemo(simulation, { admin: options.user });
          seeded = true;
        } else {
          context.output.note(`the data directory has ${DEMO_OWNER} already: not seeding it again`);
        }
      }
      const token = simulation.createToken({
        user: options.user,
        scopes: ALL_SCOPES,
        ...definedProps({ token: options.token }),
      });
      const url = new URL(server.url);
      const result: ServeResult = {
        url: server.url,
        registry: url.host,
        apiUrl: server.apiUrl,
        blobUrl: server.blobUrl,
        profile: options.profile,
        ...(options.profile === 'dockerhub' ? { tokenUrl: server.tokenUrl } : {}),
        ...definedProps({ webUrl: server.webUrl }),
        token,
        user: options.user,
        ...definedProps({ data: options.data }),
        ...(seeded ? { seed: 'demo' as const } : {}),
        pid: process.pid,
      };
      if (!/^(?:127\.|localhost$|\[::1\]$)/.test(url.hostname)) {
        context.output.warn(
          `listening on ${url.hostname}: anyone who can reach it can use this registry, over plain HTTP`,
        );
      }
      context.output.emit(result, () => renderServe(result, seeded));
      const reason = await shutdownRequested(context);
      await close();
      context.output.note(`ghcr serve: stopped (${reason})`);
    });
};
