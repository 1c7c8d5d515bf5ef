import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { definedProps, SimulationMismatchError } from '@ghcr/oci-types';
import { ConnectionResetSignal, type ExchangeEnvironment, exchange } from '../exchange.js';
import { dockerHubOptionsOf, type SimulationOptions } from '../options.js';
import { streamOf } from '../registry/body.js';
import { createSimulation, exchangeEnvironmentOf, type Simulation } from '../simulation.js';

/**
 * Options of {@link startSimulationServer}.
 * @public
 */
export interface StartSimulationServerOptions {
  /** Serve this simulation. If omitted, one is created from `simulationOptions`. */
  readonly simulation?: Simulation | undefined;
  /**
   * Options for the simulation created when `simulation` is omitted; `registryUrl`, `blobUrl` and
   * `apiUrl` default to the server's own URLs. If omitted, defaults.
   */
  readonly simulationOptions?: SimulationOptions | undefined;
  /** Interface to listen on. If omitted, `127.0.0.1`. */
  readonly host?: string | undefined;
  /** Port (0 = ephemeral). If omitted, 0. */
  readonly port?: number | undefined;
}

/**
 * A running loopback server.
 * @public
 */
export interface SimulationServer {
  /** Registry base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** GitHub REST base URL: `<url>/api`. */
  readonly apiUrl: string;
  /** The blob host (ghcr profile redirects, dockerhub's CDN); equals `url` in the distribution profile. */
  readonly blobUrl: string;
  /** The token endpoint: `<url>/token`, or, in the dockerhub profile, `/token` on a port of its own. */
  readonly tokenUrl: string;
  /** dockerhub profile: the web host standing in for `docker.io` (its `/v2/…` redirects to `homeUrl`). */
  readonly webUrl?: string;
  /** dockerhub profile: the web page standing in for `www.docker.com`. */
  readonly homeUrl?: string;
  /** The simulation behind it. */
  readonly simulation: Simulation;
  /** Stops listening and closes idle and active connections. */
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'host',
]);

function urlOf(server: Server, host: string): string {
  const address = server.address() as AddressInfo;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${address.port}`;
}

async function listen(server: Server, host: string, port: number): Promise<void> {
  server.listen(port, host);
  await once(server, 'listening');
}

interface Rewrite {
  readonly from: string;
  readonly to: string;
}

function rewriteValue(value: string, rewrites: readonly Rewrite[]): string {
  let out = value;
  for (const { from, to } of rewrites) if (from !== to && out.includes(from)) out = out.split(from).join(to);
  return out;
}

/**
 * Resolves when `response` drains or closes, and removes both listeners either way. (Racing two
 * `once()` promises left the loser's listener, plus the `error` listener `once()` adds, on the
 * response at every wait: a long download tripped MaxListenersExceededWarning.)
 */
function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

function handle(
  env: ExchangeEnvironment,
  target: (request: IncomingMessage) => string,
  rewrites: () => readonly Rewrite[],
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const controller = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) controller.abort(new Error('the client closed the connection'));
    });
    const headers = new Headers();
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      const name = (request.rawHeaders[i] ?? '').toLowerCase();
      if (!HOP_BY_HOP.has(name)) headers.append(name, request.rawHeaders[i + 1] ?? '');
    }
    // The peer's address, for what counts per source address (Docker Hub's anonymous pull quota).
    const peer = request.socket.remoteAddress;
    if (!headers.has('x-forwarded-for') && peer !== undefined) headers.set('x-forwarded-for', peer);
    const method = (request.method ?? 'GET').toUpperCase();
    const hasBody =
      method !== 'GET' &&
      method !== 'HEAD' &&
      (request.headers['transfer-encoding'] !== undefined ||
        Number(request.headers['content-length'] ?? 0) > 0);
    const body = hasBody ? streamOf(request as AsyncIterable<Uint8Array>) : null;
    void (async () => {
      try {
        const answer = await exchange(env, {
          method,
          url: target(request),
          headers,
          body,
          signal: controller.signal,
        });
        response.statusCode = answer.status;
        if (answer.statusText !== '') response.statusMessage = answer.statusText;
        const list = rewrites();
        answer.headers.forEach((value, name) => {
          if (name !== 'set-cookie') response.setHeader(name, rewriteValue(value, list));
        });
        const cookies = answer.headers.getSetCookie();
        if (cookies.length > 0) response.setHeader('set-cookie', cookies);
        if (answer.body === null) {
          response.end();
          return;
        }
        response.flushHeaders();
        for await (const chunk of answer.body) {
          if (response.destroyed) return;
          if (!response.write(chunk)) {
            await drainedOrClosed(response);
          }
        }
        response.end();
      } catch (error) {
        if (!hasBody) request.resume();
        if (error instanceof ConnectionResetSignal || response.headersSent) {
          request.socket.destroy();
          return;
        }
        const mismatch = SimulationMismatchError.isInstance(error);
        const text = error instanceof Error ? error.message : String(error);
        response.statusCode = mismatch ? 404 : 500;
        response.setHeader('content-type', 'text/plain; charset=utf-8');
        response.end(`${text}\n`);
      }
    })();
  };
}

/** The hosts besides the registry that a profile serves, each on a port of its own. */
type SiteRole = 'blob' | 'auth' | 'web' | 'home';

function rolesOf(profile: string): readonly SiteRole[] {
  if (profile === 'ghcr') return ['blob'];
  if (profile === 'dockerhub') return ['blob', 'auth', 'web', 'home'];
  return [];
}

/** The simulation origin each role stands in for. */
function originOf(role: SiteRole, options: Simulation['options']): string {
  switch (role) {
    case 'blob':
      return options.blobUrl;
    case 'auth':
      return new URL(options.tokenUrl).origin;
    case 'web':
      return dockerHubOptionsOf(options).webUrl;
    case 'home':
      return dockerHubOptionsOf(options).homeUrl;
  }
}

/**
 * Starts a real HTTP server on loopback over a simulation's handlers (with its faults and request
 * log): the registry, `/token` and the GitHub API under `/api` on one port, and each other host
 * of the profile on a port of its own: the blob host (ghcr); the CDN, the token host and the
 * docker.io web host and page (dockerhub). Request URLs are rewritten to the origins the handlers
 * expect, and those origins in response headers (Location, Link, WWW-Authenticate) back to the
 * server's URLs. Requests get `X-Forwarded-For` with the peer's address unless they carry one.
 * @public
 */
export async function startSimulationServer(
  options: StartSimulationServerOptions = {},
): Promise<SimulationServer> {
  const host = options.host ?? '127.0.0.1';
  let simulation: Simulation | undefined = options.simulation;
  const profile = simulation?.options.profile ?? options.simulationOptions?.profile ?? 'ghcr';
  let env: ExchangeEnvironment | undefined;
  let rewrites: Rewrite[] = [];
  const current = (): ExchangeEnvironment => {
    if (env === undefined) throw new Error('the simulation server is not ready yet');
    return env;
  };
  const lazyEnv: ExchangeEnvironment = {
    get handlers() {
      return current().handlers;
    },
    get log() {
      return current().log;
    },
    get faults() {
      return current().faults;
    },
    get clock() {
      return current().clock;
    },
    get annotations() {
      return current().annotations;
    },
    classify: (method, url) => current().classify(method, url),
  };
  let registryTarget = (_request: IncomingMessage): string => '';
  const registryServer = createServer(
    handle(
      lazyEnv,
      (request) => registryTarget(request),
      () => rewrites,
    ),
  );
  const sites = rolesOf(profile).map((role) => {
    // The origin is known once the simulation exists (after every port listens).
    const target = { origin: '' };
    const server = createServer(
      handle(
        lazyEnv,
        (request) => `${target.origin}${request.url ?? '/'}`,
        () => rewrites,
      ),
    );
    return { role, target, server };
  });
  await listen(registryServer, host, options.port ?? 0);
  for (const site of sites) await listen(site.server, host, 0);
  const url = urlOf(registryServer, host);
  const urlOfRole = (role: SiteRole): string | undefined => {
    const site = sites.find((candidate) => candidate.role === role);
    return site === undefined ? undefined : urlOf(site.server, host);
  };
  const blobUrl = urlOfRole('blob') ?? url;
  const authUrl = urlOfRole('auth');
  const webUrl = urlOfRole('web');
  const homeUrl = urlOfRole('home');
  const apiUrl = `${url}/api`;
  const given = options.simulationOptions;
  simulation ??= createSimulation({
    ...given,
    registryUrl: given?.registryUrl ?? url,
    blobUrl: given?.blobUrl ?? blobUrl,
    apiUrl: given?.apiUrl ?? apiUrl,
    ...(authUrl === undefined ? {} : { tokenUrl: given?.tokenUrl ?? `${authUrl}/token` }),
    ...(webUrl === undefined || homeUrl === undefined
      ? {}
      : {
          dockerhub: {
            ...given?.dockerhub,
            webUrl: given?.dockerhub?.webUrl ?? webUrl,
            homeUrl: given?.dockerhub?.homeUrl ?? homeUrl,
          },
        }),
  });
  const simulationOptions = simulation.options;
  env = exchangeEnvironmentOf(simulation);
  for (const site of sites) site.target.origin = originOf(site.role, simulationOptions);
  rewrites = [
    { from: simulationOptions.apiUrl, to: apiUrl },
    { from: simulationOptions.registryUrl, to: url },
    ...sites.map((site) => ({ from: site.target.origin, to: urlOf(site.server, host) })),
  ];
  registryTarget = (request) => {
    const path = request.url ?? '/';
    if (path === '/api' || path.startsWith('/api/') || path.startsWith('/api?'))
      return `${simulationOptions.apiUrl}${path.slice(4)}`;
    return `${simulationOptions.registryUrl}${path}`;
  };
  const servers = [registryServer, ...sites.map((site) => site.server)];
  const served = simulation;
  return {
    url,
    apiUrl,
    blobUrl,
    tokenUrl: rewriteValue(simulationOptions.tokenUrl, rewrites),
    ...definedProps({ webUrl, homeUrl }),
    simulation: served,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
    },
  };
}
