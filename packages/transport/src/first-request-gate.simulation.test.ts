import { createTokenManager, staticCredentials } from '@ghcr/auth';
import {
  type Clock,
  createManualClock,
  definedProps,
  GhcrError,
  GhcrErrorCode,
  type ManualClock,
  MediaType,
} from '@ghcr/oci-types';
import { createSimulation, pushImage, type Simulation } from '@ghcr/simulation';
import { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { createRegistryAuthorizer } from './registry-authorizer.js';
import { createTransport, type Transport } from './transport.js';

// The first wave of concurrent requests on a cold client: one bare request per registry goes out,
// the others wait for its answer and then go out with a token from the realm its 401 named.

const PAT = 'ghp_firstWaveTestToken000000000000000000';

/** Sends each request to the simulation that serves its host. */
class HostRouter extends Dispatcher {
  readonly #routes: ReadonlyMap<string, Dispatcher>;
  constructor(routes: ReadonlyMap<string, Dispatcher>) {
    super();
    this.#routes = routes;
  }
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const host = new URL(String(options.origin)).host;
    const route = this.#routes.get(host);
    if (route === undefined) throw new Error(`no simulation for ${host}`);
    return route.dispatch(options, handler);
  }
}

function registry(origin: string, clock: ManualClock): Simulation {
  const simulation = createSimulation({ profile: 'distribution', registryUrl: origin, clock });
  simulation.createToken({
    user: 'octocat',
    scopes: ['read:packages', 'write:packages'],
    token: PAT,
  });
  return simulation;
}

function transportFor(
  dispatcher: Dispatcher,
  clock: Clock,
  options: { maxRetries?: number } = {},
): Transport {
  const credentials = staticCredentials({ username: 'octocat', password: PAT });
  const tokenManager = createTokenManager({ dispatcher, credentials, clock });
  return createTransport({
    dispatcher,
    clock,
    retry: { random: () => 0, maxRetries: options.maxRetries ?? 3 },
    authorizer: createRegistryAuthorizer({ tokenManager }),
  });
}

const head = (transport: Transport, origin: string, signal?: AbortSignal) =>
  transport.send({
    operation: 'manifests.exists',
    method: 'HEAD',
    url: `${origin}/v2/octocat/app/manifests/v1`,
    headers: { accept: MediaType.OciManifest },
    auth: { kind: 'registry', repository: 'octocat/app', actions: ['pull'] },
    ...definedProps({ signal }),
  });

/** Yields to the event loop until `condition` holds (no wall-clock wait: a bounded number of turns). */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; turn < 1000 && !condition(); turn++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (!condition()) throw new Error(`never happened: ${what}`);
}

/** What the request log says, as `METHOD status` / `token status` lines. */
const summary = (simulation: Simulation) =>
  simulation.log.entries.map((entry) =>
    entry.path === '/token' ? `token ${entry.status}` : `${entry.method} ${entry.status}`,
  );

const count = (lines: readonly string[]) =>
  lines.reduce<Record<string, number>>((counts, line) => {
    counts[line] = (counts[line] ?? 0) + 1;
    return counts;
  }, {});

describe('the first wave of requests on a cold client', () => {
  it('meets one 401 challenge and fetches one token for 100 concurrent manifest HEADs', async () => {
    const clock = createManualClock();
    const origin = 'https://registry.test';
    const simulation = registry(origin, clock);
    await pushImage(simulation, 'octocat/app', { tag: 'v1' });
    simulation.log.clear();
    const transport = transportFor(simulation.dispatcher(), clock);

    const responses = await Promise.all(Array.from({ length: 100 }, () => head(transport, origin)));

    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    // Without the gate: 100 × HEAD 401, 1 token, 100 × HEAD 200 (201 requests).
    expect(count(summary(simulation))).toEqual({ 'HEAD 401': 1, 'token 200': 1, 'HEAD 200': 100 });
    expect(simulation.log.entries[0]?.hadAuthorization).toBe(false);
    const succeeded = simulation.log.filter((entry) => entry.method === 'HEAD' && entry.status === 200);
    expect(succeeded.every((entry) => entry.hadAuthorization)).toBe(true);
  });

  it('sends the held requests of other repositories with their own scope, one token each', async () => {
    const clock = createManualClock();
    const origin = 'https://registry.test';
    const simulation = registry(origin, clock);
    const repositories = ['octocat/a', 'octocat/b', 'octocat/c', 'octocat/d'];
    for (const repository of repositories) await pushImage(simulation, repository, { tag: 'v1' });
    simulation.log.clear();
    const transport = transportFor(simulation.dispatcher(), clock);

    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, index) => {
        const repository = repositories[index % repositories.length] ?? 'octocat/a';
        return transport.send({
          operation: 'manifests.exists',
          method: 'HEAD',
          url: `${origin}/v2/${repository}/manifests/v1`,
          headers: { accept: MediaType.OciManifest },
          auth: { kind: 'registry', repository, actions: ['pull'] },
        });
      }),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(100).fill(200));
    expect(count(summary(simulation))).toEqual({ 'HEAD 401': 1, 'token 200': 4, 'HEAD 200': 100 });
    const scopes = simulation.log
      .byOperation('token')
      .map((entry) => new URL(entry.url).searchParams.getAll('scope').join(' '))
      .sort();
    expect(scopes).toEqual(repositories.map((repository) => `repository:${repository}:pull`));
  });

  it('gives each registry its own first request, and never holds one behind another', async () => {
    const clock = createManualClock();
    const a = registry('https://a.registry.test', clock);
    const b = registry('https://b.registry.test', clock);
    await pushImage(a, 'octocat/app', { tag: 'v1' });
    await pushImage(b, 'octocat/app', { tag: 'v1' });
    a.log.clear();
    b.log.clear();
    // a's first request is held at the registry until the clock moves.
    a.faults.add({ method: 'HEAD', count: 1, action: { type: 'delay', ms: 1000 } });
    const transport = transportFor(
      new HostRouter(
        new Map([
          ['a.registry.test', a.dispatcher()],
          ['b.registry.test', b.dispatcher()],
        ]),
      ),
      clock,
    );

    const onA = Promise.all(Array.from({ length: 10 }, () => head(transport, 'https://a.registry.test')));
    const onB = await Promise.all(
      Array.from({ length: 10 }, () => head(transport, 'https://b.registry.test')),
    );

    // b finished while a's first request is still held; a's others did not go out.
    expect(onB.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(count(summary(b))).toEqual({ 'HEAD 401': 1, 'token 200': 1, 'HEAD 200': 10 });
    expect(a.log.entries).toHaveLength(1);
    expect(clock.pendingSleeps).toBe(1);

    await clock.advance(1000);
    expect((await onA).map((response) => response.status)).toEqual(Array(10).fill(200));
    expect(count(summary(a))).toEqual({ 'HEAD 401': 1, 'token 200': 1, 'HEAD 200': 10 });
  });

  it('releases the waiting requests when the first one fails on the network', async () => {
    const clock = createManualClock();
    const origin = 'https://registry.test';
    const simulation = registry(origin, clock);
    await pushImage(simulation, 'octocat/app', { tag: 'v1' });
    simulation.log.clear();
    simulation.faults.add({ method: 'HEAD', count: 1, action: { type: 'reset' } });
    const transport = transportFor(simulation.dispatcher(), clock, { maxRetries: 0 });

    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => head(transport, origin)));

    const [first, ...others] = outcomes;
    expect(first?.status === 'rejected' && GhcrError.isInstance(first.reason) && first.reason.code).toBe(
      GhcrErrorCode.CONNECTION_FAILED,
    );
    expect(others.map((outcome) => outcome.status === 'fulfilled' && outcome.value.status)).toEqual(
      Array(9).fill(200),
    );
    // Released, they went out bare as before the gate (each met its own 401), sharing one token.
    expect(count(summary(simulation))).toEqual({ 'HEAD 0': 1, 'HEAD 401': 9, 'token 200': 1, 'HEAD 200': 9 });
  });

  it('releases the waiting requests when the first one gets neither 401 nor success', async () => {
    const clock = createManualClock();
    const origin = 'https://registry.test';
    const simulation = registry(origin, clock);
    await pushImage(simulation, 'octocat/app', { tag: 'v1' });
    simulation.log.clear();
    simulation.faults.add({ method: 'HEAD', count: 1, action: { type: 'status', status: 503 } });
    const transport = transportFor(simulation.dispatcher(), clock, { maxRetries: 0 });

    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => head(transport, origin)));

    const [first, ...others] = outcomes;
    expect(
      first?.status === 'rejected' && GhcrError.isInstance(first.reason) && first.reason.http?.status,
    ).toBe(503);
    expect(others.map((outcome) => outcome.status === 'fulfilled' && outcome.value.status)).toEqual(
      Array(9).fill(200),
    );
    expect(count(summary(simulation))).toEqual({
      'HEAD 503': 1,
      'HEAD 401': 9,
      'token 200': 1,
      'HEAD 200': 9,
    });
  });

  it('lets a waiting request abort with the usual abort error while the first one is held', async () => {
    const clock = createManualClock();
    const origin = 'https://registry.test';
    const simulation = registry(origin, clock);
    await pushImage(simulation, 'octocat/app', { tag: 'v1' });
    simulation.log.clear();
    simulation.faults.add({ method: 'HEAD', count: 1, action: { type: 'delay', ms: 1000 } });
    const transport = transportFor(simulation.dispatcher(), clock);

    const first = head(transport, origin);
    await until(() => clock.pendingSleeps === 1, 'the first HEAD reaches the registry');
    const controller = new AbortController();
    const aborted = head(transport, origin, controller.signal);
    const others = Promise.all([head(transport, origin), head(transport, origin)]);
    let othersDone = false;
    void others.then(() => {
      othersDone = true;
    });
    // Let the three reach the gate, then give up on one of them.
    for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    controller.abort(new Error('caller gave up'));

    const error = await aborted.catch((caught: unknown) => caught);
    expect(GhcrError.isInstance(error) && error.code).toBe(GhcrErrorCode.ABORTED);
    expect(othersDone).toBe(false);
    expect(simulation.log.entries).toHaveLength(1);

    await clock.advance(1000);
    expect((await first).status).toBe(200);
    expect((await others).map((response) => response.status)).toEqual([200, 200]);
    // The aborted request never went out.
    expect(count(summary(simulation))).toEqual({ 'HEAD 401': 1, 'token 200': 1, 'HEAD 200': 3 });
  });

  it('holds nothing once a registry that needs no credentials has answered', async () => {
    const clock = createManualClock();
    const origin = 'https://open.registry.test';
    const simulation = registry(origin, clock);
    // A registry without authentication: every HEAD is answered 200, credentials or not.
    simulation.faults.add({ method: 'HEAD', action: { type: 'status', status: 200 } });
    simulation.faults.add({ method: 'HEAD', count: 1, action: { type: 'delay', ms: 1000 } });
    const transport = transportFor(simulation.dispatcher(), clock);

    // First wave: the others wait for the first answer…
    const wave = Promise.all(Array.from({ length: 5 }, () => head(transport, origin)));
    await until(() => clock.pendingSleeps === 1, 'the first HEAD reaches the registry');
    for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(simulation.log.entries).toHaveLength(1);
    await clock.advance(1000);
    expect((await wave).map((response) => response.status)).toEqual(Array(5).fill(200));

    // …and after it nothing waits: all of the second wave is out while its first is held.
    simulation.faults.add({ method: 'HEAD', count: 1, action: { type: 'delay', ms: 1000 } });
    const second = Promise.all(Array.from({ length: 5 }, () => head(transport, origin)));
    await until(() => simulation.log.entries.length === 10, 'the whole second wave reaches the registry');
    expect(clock.pendingSleeps).toBe(1);
    await clock.advance(1000);
    expect((await second).map((response) => response.status)).toEqual(Array(5).fill(200));
    expect(simulation.log.filter((entry) => entry.hadAuthorization || entry.path === '/token')).toEqual([]);
  });
});
