/**
 * The token manager against @ghcr/simulation's registry and token endpoint, driven the way the
 * transport's auth middleware drives it (see README "The API the transport's auth middleware
 * uses"): authorise, send, and on 401 authorise again with the challenge and send once more.
 */

import {
  AuthenticationError,
  createManualClock,
  definedProps,
  GhcrErrorCode,
  type ManualClock,
} from '@ghcr/oci-types';
import { createSimulation, type Simulation } from '@ghcr/simulation';
import { rejectionOf } from '@ghcr/test-support';
import { type Dispatcher, request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { CredentialProvider } from './credentials/credential.js';
import { staticCredentials } from './credentials/static-credentials.js';
import { challengesOf } from './parse-www-authenticate.js';
import { formatScope, repositoryScope } from './scope.js';
import { expectNoSecret } from './testing/fixtures.js';
import { type Authorization, createTokenManager, type TokenManager } from './token-manager.js';
import type { TokenManagerEvent } from './token-manager-events.js';
import type { TokenManagerOptions } from './token-manager-options.js';

interface Harness {
  readonly sim: Simulation;
  readonly clock: ManualClock;
  readonly dispatcher: Dispatcher;
  readonly tokens: TokenManager;
  readonly events: TokenManagerEvent[];
  readonly host: string;
  /** The middleware's flow: authorise, send, on 401 re-authorise with the challenge, send once more. */
  send(
    method: 'GET' | 'POST',
    path: string,
    scopes: readonly string[],
  ): Promise<{ status: number; sent: Authorization | undefined }>;
  tokenRequests(): ReturnType<Simulation['log']['filter']>;
}

function setup(
  options: {
    profile?: 'ghcr' | 'distribution';
    registryUrl?: string;
    tokenTtlSeconds?: number;
    credentials?: (sim: Simulation) => CredentialProvider | undefined;
    manager?: Partial<TokenManagerOptions>;
  } = {},
): Harness {
  const clock = createManualClock();
  const sim = createSimulation({
    clock,
    profile: options.profile ?? 'ghcr',
    ...definedProps({ registryUrl: options.registryUrl, tokenTtlSeconds: options.tokenTtlSeconds }),
  });
  const dispatcher = sim.dispatcher();
  const events: TokenManagerEvent[] = [];
  const credentials = options.credentials?.(sim);
  const tokens = createTokenManager({
    dispatcher,
    clock,
    onEvent: (event) => events.push(event),
    ...definedProps({ credentials }),
    ...options.manager,
  });
  const registryUrl = new URL(sim.options.registryUrl);
  const host = registryUrl.host;
  const sendOnce = async (method: 'GET' | 'POST', path: string, authorization: Authorization | undefined) => {
    const response = await request(new URL(path, registryUrl), {
      dispatcher,
      method,
      headers: authorization === undefined ? {} : { authorization: authorization.header },
    });
    await response.body.dump();
    return response;
  };
  return {
    sim,
    clock,
    dispatcher,
    tokens,
    events,
    host,
    async send(method, path, scopes) {
      const first = await tokens.authorizationFor({ registry: host, scopes });
      const response = await sendOnce(method, path, first);
      if (response.statusCode !== 401) return { status: response.statusCode, sent: first };
      const retry = await tokens.authorizationFor({
        registry: host,
        scopes,
        challenge: challengesOf(response.headers),
        rejected: first,
      });
      if (retry === undefined) return { status: response.statusCode, sent: first };
      const second = await sendOnce(method, path, retry);
      return { status: second.statusCode, sent: retry };
    },
    tokenRequests: () => sim.log.filter((entry) => entry.path === '/token'),
  };
}

const pull = (name: string) => [formatScope(repositoryScope(name, ['pull']))];
const pullPush = (name: string) => [`repository:${name}:pull`, `repository:${name}:push`];

/** A PAT credential for `user` with the given scopes, created in the simulation. */
const patFor =
  (
    user: string,
    scopes: ('read:packages' | 'write:packages' | 'delete:packages')[] = ['read:packages', 'write:packages'],
  ) =>
  (sim: Simulation) =>
    staticCredentials(
      { username: user, password: sim.createToken({ user, scopes }) },
      { source: `test PAT of ${user}` },
    );

describe('TokenManager against the simulation', () => {
  it('fetches one token for 100 concurrent requests in one scope (anonymous, public ghcr repository)', async () => {
    const harness = setup();
    harness.sim.createOrganization('octo-org');
    harness.sim.state.ensureRepository('octo-org/app');
    harness.sim.setVisibility('octo-org', 'app', 'public');
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        harness.send('GET', '/v2/octo-org/app/tags/list', pull('octo-org/app')),
      ),
    );
    expect(results.every((result) => result.status === 200)).toBe(true);
    const tokenRequests = harness.tokenRequests();
    expect(tokenRequests).toHaveLength(1);
    expect(tokenRequests[0]?.hadAuthorization).toBe(false);
    expect(new URL(tokenRequests[0]?.url ?? '').searchParams.getAll('scope')).toEqual([
      'repository:octo-org/app:pull',
    ]);
    expect(harness.events.filter((event) => event.type === 'fetch')).toHaveLength(1);
  });

  it('takes the dispatcher as a function, called at the first token request and not before', async () => {
    const harness = setup();
    harness.sim.createOrganization('octo-org');
    harness.sim.state.ensureRepository('octo-org/app');
    harness.sim.setVisibility('octo-org', 'app', 'public');
    let reads = 0;
    const tokens = createTokenManager({
      dispatcher: () => {
        reads += 1;
        return harness.dispatcher;
      },
      clock: harness.clock,
    });
    // No realm known yet: nothing to send, and no token request.
    expect(
      await tokens.authorizationFor({ registry: harness.host, scopes: pull('octo-org/app') }),
    ).toBeUndefined();
    expect(reads).toBe(0);
    const refused = await request(new URL('/v2/octo-org/app/tags/list', `https://${harness.host}`), {
      dispatcher: harness.dispatcher,
    });
    await refused.body.dump();
    expect(refused.statusCode).toBe(401);
    const authorization = await tokens.authorizationFor({
      registry: harness.host,
      scopes: pull('octo-org/app'),
      challenge: challengesOf(refused.headers),
    });
    expect(authorization?.header).toMatch(/^Bearer /);
    expect(reads).toBe(1);
    expect(harness.tokenRequests()).toHaveLength(1);
  });

  it('fetches one token for 100 concurrent requests with credentials (distribution profile)', async () => {
    const harness = setup({ profile: 'distribution', credentials: patFor('octocat') });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    // The first request learns the realm from a 401; the next 100 get the token proactively.
    expect((await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'))).status).toBe(200);
    harness.sim.log.clear();
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app')),
      ),
    );
    expect(results.every((result) => result.status === 200 && result.sent?.kind === 'token')).toBe(true);
    expect(harness.tokenRequests()).toHaveLength(0);
    expect(harness.sim.log.filter((entry) => entry.status === 401)).toHaveLength(0);

    // A new scope: 100 concurrent callers, no 401 round trip, exactly one token fetch.
    harness.sim.state.ensureRepository('octocat/other', 'octocat');
    await Promise.all(
      Array.from({ length: 100 }, () =>
        harness.send('GET', '/v2/octocat/other/tags/list', pull('octocat/other')),
      ),
    );
    expect(harness.tokenRequests()).toHaveLength(1);
    expect(harness.tokenRequests()[0]?.hadAuthorization).toBe(true);
    expect(harness.tokenRequests()[0]?.requestHeaders.authorization).toBe('Basic REDACTED');
  });

  it('uses Bearer base64(PAT) directly on ghcr, with no token exchange', async () => {
    const harness = setup({ credentials: patFor('octocat') });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    const result = await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'));
    expect(result).toMatchObject({ status: 200, sent: { kind: 'direct' } });
    expect(harness.tokenRequests()).toHaveLength(0);
  });

  it('reuses a GHCR token (no expires_in) for 60 s minus 10 s skew, then fetches a new one', async () => {
    const harness = setup({ manager: { directBearerRegistries: [] }, credentials: patFor('octocat') });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    const send = () => harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'));
    expect((await send()).status).toBe(200);
    expect(harness.tokenRequests()).toHaveLength(1);
    await harness.clock.advance(49_999);
    expect((await send()).status).toBe(200);
    expect(harness.tokenRequests()).toHaveLength(1);
    await harness.clock.advance(1);
    expect((await send()).status).toBe(200);
    expect(harness.tokenRequests()).toHaveLength(2);
    // No 401 after the first: the token was renewed before it could be refused.
    expect(harness.sim.log.filter((entry) => entry.status === 401)).toHaveLength(1);
  });

  it('honours expires_in from the distribution token endpoint', async () => {
    const harness = setup({ profile: 'distribution', tokenTtlSeconds: 300, credentials: patFor('octocat') });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    const send = () => harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'));
    const first = await send();
    expect(first.sent?.expiresAt).toBe(harness.clock.now() + 290_000);
    await harness.clock.advance(289_999);
    await send();
    expect(harness.tokenRequests()).toHaveLength(1);
    await harness.clock.advance(1);
    await send();
    expect(harness.tokenRequests()).toHaveLength(2);
  });

  it('a 401 with a token the registry considers expired leads to one refresh and success', async () => {
    // The registry's tokens live 20 s, the manager believes 50 s: the cached token is refused.
    const harness = setup({
      tokenTtlSeconds: 20,
      manager: { directBearerRegistries: [] },
      credentials: patFor('octocat'),
    });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    expect((await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'))).status).toBe(200);
    await harness.clock.advance(21_000);
    harness.sim.log.clear();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'))),
    );
    expect(results.every((result) => result.status === 200)).toBe(true);
    expect(harness.tokenRequests()).toHaveLength(1);
    expect(harness.sim.log.filter((entry) => entry.status === 401)).toHaveLength(10);
  });

  it('merges pull and push into one token that later pulls reuse', async () => {
    const harness = setup({ profile: 'distribution', credentials: patFor('octocat') });
    const upload = await harness.send('POST', '/v2/octocat/app/blobs/uploads/', pullPush('octocat/app'));
    expect(upload.status).toBe(202);
    expect(upload.sent?.scopes).toEqual(['repository:octocat/app:pull,push']);
    const tokenRequests = harness.tokenRequests();
    expect(tokenRequests).toHaveLength(1);
    expect(new URL(tokenRequests[0]?.url ?? '').searchParams.getAll('scope')).toEqual([
      'repository:octocat/app:pull,push',
    ]);
    expect(
      (await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'))).sent?.scopes,
    ).toEqual(['repository:octocat/app:pull,push']);
    expect(harness.tokenRequests()).toHaveLength(1);
  });

  it('invalidate() drops the token so the next request fetches a new one', async () => {
    const harness = setup({ profile: 'distribution', credentials: patFor('octocat') });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    const first = await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'));
    if (first.sent === undefined) throw new Error('expected an authorization');
    harness.tokens.invalidate(first.sent);
    // The simulation's tokens are deterministic per issue time: move on so the new one differs.
    await harness.clock.advance(1_000);
    const second = await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'));
    expect(second.status).toBe(200);
    expect(second.sent?.header).not.toBe(first.sent.header);
    expect(harness.tokenRequests()).toHaveLength(2);
  });

  it('gets an anonymous token for a public repository, and none that opens a private one', async () => {
    const harness = setup();
    harness.sim.createOrganization('octo-org');
    harness.sim.state.ensureRepository('octo-org/public-app');
    harness.sim.state.ensureRepository('octo-org/private-app');
    harness.sim.setVisibility('octo-org', 'public-app', 'public');
    harness.sim.setVisibility('octo-org', 'private-app', 'private');
    const open = await harness.send('GET', '/v2/octo-org/public-app/tags/list', pull('octo-org/public-app'));
    expect(open).toMatchObject({
      status: 200,
      sent: { kind: 'token', anonymous: true, source: 'anonymous' },
    });
    const closed = await harness.send(
      'GET',
      '/v2/octo-org/private-app/tags/list',
      pull('octo-org/private-app'),
    );
    expect(closed.status).toBe(401);
    expect(harness.tokenRequests().every((entry) => !entry.hadAuthorization)).toBe(true);
  });

  it('refuses a plain-HTTP realm on a non-loopback registry, sending no credentials', async () => {
    const harness = setup({
      profile: 'distribution',
      registryUrl: 'http://registry.example',
      credentials: patFor('octocat'),
    });
    const error = await rejectionOf(harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app')));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.AUTH_FAILED);
    expect((error as Error).message).toContain(
      'refusing the plain-HTTP token realm "http://registry.example/token"',
    );
    expect(harness.tokenRequests()).toHaveLength(0);
    expectNoSecret(error, ['ghp_']);
  });

  it('accepts a plain-HTTP realm on a loopback registry', async () => {
    const harness = setup({
      profile: 'distribution',
      registryUrl: 'http://127.0.0.1:5000',
      credentials: patFor('octocat'),
    });
    harness.sim.state.ensureRepository('octocat/app', 'octocat');
    expect((await harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app'))).status).toBe(200);
    expect(harness.tokenRequests()).toHaveLength(1);
  });

  it('maps a refused PAT to GHCR_AUTH_FAILED without the PAT in the error', async () => {
    const wrong = 'ghp_notARealTokenButSecret0300';
    const harness = setup({
      manager: { directBearerRegistries: [] },
      credentials: () =>
        staticCredentials({ username: 'octocat', password: wrong }, { source: 'env GHCR_TOKEN' }),
    });
    const error = await rejectionOf(harness.send('GET', '/v2/octocat/app/tags/list', pull('octocat/app')));
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.AUTH_FAILED);
    expect((error as AuthenticationError).http?.status).toBe(403);
    expect((error as Error).message).toMatch(
      /^GET "https:\/\/ghcr.io\/token\?service=ghcr.io&scope=repository%3Aoctocat%2Fapp%3Apull": status 403/,
    );
    expect((error as Error).message).toContain('refused the credentials from env GHCR_TOKEN');
    expectNoSecret(error, [wrong, `octocat:${wrong}`]);
  });
});
