import {
  AuthenticationError,
  ConfigError,
  createManualClock,
  GhcrErrorCode,
  RateLimitError,
  TransportError,
} from '@ghcr/oci-types';
import { rejectionOf } from '@ghcr/test-support';
import { MockAgent } from 'undici';
import { describe, expect, it, vi } from 'vitest';
import { anonymousCredentials } from './credentials/anonymous-credentials.js';
import type { CredentialProvider } from './credentials/credential.js';
import { staticCredentials } from './credentials/static-credentials.js';
import { parseWwwAuthenticate } from './parse-www-authenticate.js';
import { expectNoSecret } from './testing/fixtures.js';
import {
  createStubDispatcher,
  fakeJwt,
  type StubRequest,
  type StubResponse,
} from './testing/stub-dispatcher.js';
import { createTokenManager } from './token-manager.js';
import type { TokenManagerEvent } from './token-manager-events.js';
import type { TokenHttpRequest, TokenHttpResponse } from './token-manager-options.js';

const PAT = 'ghp_stubPersonalAccessToken0100';
const pat = staticCredentials({ username: 'octocat', password: PAT }, { source: 'test PAT' });

const challenge = (realm: string, scope?: string, service = 'ghcr.io') =>
  parseWwwAuthenticate(
    `Bearer realm="${realm}",service="${service}"${scope === undefined ? '' : `,scope="${scope}"`}`,
  );

/** A token endpoint on every origin's /token that numbers its tokens. */
function tokenEndpoint(answer?: (request: StubRequest, count: number) => StubResponse) {
  let count = 0;
  const stub = createStubDispatcher((request) => {
    if (request.url.pathname !== '/token') return { status: 404, body: 'not here' };
    count++;
    return answer?.(request, count) ?? { status: 200, body: { token: `token-${count}` } };
  });
  return { ...stub, tokenRequests: () => stub.log.filter((request) => request.url.pathname === '/token') };
}

describe('createTokenManager options', () => {
  const stubDispatcher = () => createStubDispatcher(() => ({ status: 200 })).dispatcher;
  it.each<[string, () => object]>([
    ['dispatcher', () => ({})],
    ['dispatcher', () => ({ dispatcher: {} })],
    ['expirySkewSeconds', () => ({ dispatcher: stubDispatcher(), expirySkewSeconds: -1 })],
    ['defaultTokenTtlSeconds', () => ({ dispatcher: stubDispatcher(), defaultTokenTtlSeconds: 0 })],
    ['credentials', () => ({ dispatcher: stubDispatcher(), credentials: { name: 'x' } })],
    ['clock', () => ({ dispatcher: stubDispatcher(), clock: { now: () => 1 } })],
  ])('rejects a bad %s with a ConfigError naming it', (field, options) => {
    let error: unknown;
    try {
      createTokenManager(options() as never);
    } catch (caught: unknown) {
      error = caught;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).field).toBe(field);
    expect((error as Error).message).toContain(`"${field}"`);
  });

  it('refuses an unknown option by name, with the nearest valid one', () => {
    const options = { dispatcher: stubDispatcher(), userAgnet: 'me' };
    expect(() => createTokenManager(options as never)).toThrow(
      /unknown token manager option "userAgnet" \(did you mean "userAgent"\?\)/,
    );
  });

  it('applies the documented defaults', () => {
    const manager = createTokenManager({
      dispatcher: createStubDispatcher(() => ({ status: 200 })).dispatcher,
    });
    expect(manager.options).toMatchObject({
      defaultTokenTtlSeconds: 60,
      expirySkewSeconds: 10,
      directBearerRegistries: ['ghcr.io'],
      tokenRequestTimeoutMs: 30_000,
    });
    expect(manager.options.allowInsecureRealm('127.0.0.1')).toBe(true);
    expect(manager.options.allowInsecureRealm('registry.example')).toBe(false);
  });
});

describe('authorizationFor: direct and proactive', () => {
  it('offers Bearer base64(PAT) on ghcr.io without any request', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    const authorization = await manager.authorizationFor({
      registry: 'ghcr.io',
      scopes: ['repository:o/app:pull'],
    });
    expect(authorization?.kind).toBe('direct');
    expect(authorization?.header).toBe(`Bearer ${Buffer.from(PAT).toString('base64')}`);
    expect(authorization?.source).toBe('test PAT');
    expect(stub.log).toHaveLength(0);
    // The secret is not enumerable: logging the object does not print it.
    expect(JSON.stringify(authorization)).not.toContain(Buffer.from(PAT).toString('base64'));
    expect(Object.keys(authorization ?? {})).not.toContain('header');
  });

  it('answers undefined before any challenge on other registries, and when anonymous', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    expect(
      await manager.authorizationFor({ registry: 'quay.io', scopes: ['repository:o/app:pull'] }),
    ).toBeUndefined();
    const anonymous = createTokenManager({ dispatcher: stub.dispatcher });
    expect(
      await anonymous.authorizationFor({ registry: 'ghcr.io', scopes: ['repository:o/app:pull'] }),
    ).toBeUndefined();
    expect(stub.log).toHaveLength(0);
  });

  it('sends a registryToken as is', async () => {
    const manager = createTokenManager({
      dispatcher: tokenEndpoint().dispatcher,
      credentials: staticCredentials({ registryToken: 'reg-token-secret' }),
    });
    const authorization = await manager.authorizationFor({ registry: 'quay.io' });
    expect(authorization).toMatchObject({ kind: 'registry-token' });
    expect(authorization?.header).toBe('Bearer reg-token-secret');
  });
});

describe('authorizationFor: the challenge flow', () => {
  it('exchanges Basic credentials at the realm for a token, with service and scope', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({
      dispatcher: stub.dispatcher,
      credentials: pat,
      userAgent: 'test-agent',
    });
    const authorization = await manager.authorizationFor({
      registry: 'ghcr.io',
      scopes: ['repository:o/app:pull'],
      challenge: challenge('https://ghcr.io/token', 'repository:o/app:pull'),
    });
    expect(authorization?.header).toBe('Bearer token-1');
    expect(authorization).toMatchObject({
      kind: 'token',
      anonymous: false,
      scopes: ['repository:o/app:pull'],
    });
    const [request] = stub.tokenRequests();
    expect(request?.method).toBe('GET');
    expect(request?.url.origin).toBe('https://ghcr.io');
    expect(request?.url.searchParams.get('service')).toBe('ghcr.io');
    expect(request?.url.searchParams.getAll('scope')).toEqual(['repository:o/app:pull']);
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`octocat:${PAT}`).toString('base64')}`);
    expect(request?.headers['user-agent']).toBe('test-agent');
  });

  it('sends the token request through `send` when given, with the request timeout, and no dispatcher', async () => {
    const sent: TokenHttpRequest[] = [];
    const bodyOf = (text: string): TokenHttpResponse['body'] => {
      let destroyed = false;
      return Object.assign(
        (async function* pieces() {
          if (!destroyed) yield Buffer.from(text);
        })(),
        {
          destroy: () => {
            destroyed = true;
          },
        },
      );
    };
    const manager = createTokenManager({
      send: async (request) => {
        sent.push(request);
        return sent.length === 1
          ? {
              status: 200,
              headers: { 'content-type': 'application/json' },
              body: bodyOf('{"token":"sent-1"}'),
            }
          : { status: 401, headers: {}, body: bodyOf('{"errors":[{"code":"DENIED"}]}') };
      },
      credentials: pat,
      userAgent: 'test-agent',
      tokenRequestTimeoutMs: 1234,
    });
    const authorization = await manager.authorizationFor({
      registry: 'registry.example',
      scopes: ['repository:o/app:pull'],
      challenge: challenge('https://auth.example/token', 'repository:o/app:pull', 'registry.example'),
    });
    expect(authorization?.header).toBe('Bearer sent-1');
    expect(sent).toHaveLength(1);
    const url = new URL(sent[0]?.url ?? '');
    expect(url.origin).toBe('https://auth.example');
    expect(url.searchParams.getAll('scope')).toEqual(['repository:o/app:pull']);
    expect(sent[0]).toMatchObject({ method: 'GET', timeoutMs: 1234 });
    expect(sent[0]?.headers.authorization).toBe(`Basic ${Buffer.from(`octocat:${PAT}`).toString('base64')}`);
    // A refusal through `send` is the same error as through a dispatcher.
    const error = await rejectionOf(
      manager.authorizationFor({
        registry: 'registry.example',
        scopes: ['repository:o/other:push'],
        challenge: challenge('https://auth.example/token', 'repository:o/other:push', 'registry.example'),
      }),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('401');
    expectNoSecret(error, [PAT]);
  });

  it('merges requested scopes with the challenge scopes into one token request', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    const authorization = await manager.authorizationFor({
      registry: 'registry.example',
      scopes: ['repository:o/app:push', 'repository:o/base:pull'],
      challenge: challenge('https://registry.example/token', 'repository:o/app:pull', 'registry.example'),
    });
    expect(stub.tokenRequests()[0]?.url.searchParams.getAll('scope')).toEqual([
      'repository:o/app:pull,push',
      'repository:o/base:pull',
    ]);
    expect(authorization?.scopes).toEqual(['repository:o/app:pull,push', 'repository:o/base:pull']);
    // A later pull of either repository reuses the merged token without a request.
    for (const scope of ['repository:o/app:pull', 'repository:o/base:pull', 'repository:o/app:push']) {
      expect(
        (await manager.authorizationFor({ registry: 'registry.example', scopes: [scope] }))?.header,
      ).toBe('Bearer token-1');
    }
    expect(stub.tokenRequests()).toHaveLength(1);
  });

  it('ignores a challenge scope that is not type:name:actions', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    await manager.authorizationFor({
      registry: 'registry.example',
      scopes: ['repository:o/app:pull'],
      challenge: challenge(
        'https://registry.example/token',
        'weird repository:o/app:push',
        'registry.example',
      ),
    });
    expect(stub.tokenRequests()[0]?.url.searchParams.getAll('scope')).toEqual(['repository:o/app:pull,push']);
  });

  it('asks for an anonymous token with no Authorization when there are no credentials', async () => {
    const stub = tokenEndpoint();
    for (const credentials of [undefined, anonymousCredentials()] as const) {
      const manager = createTokenManager({
        dispatcher: stub.dispatcher,
        ...(credentials ? { credentials } : {}),
      });
      const authorization = await manager.authorizationFor({
        registry: 'ghcr.io',
        challenge: challenge('https://ghcr.io/token', 'repository:o/public:pull'),
      });
      expect(authorization).toMatchObject({ kind: 'token', anonymous: true, source: 'anonymous' });
    }
    expect(stub.tokenRequests()).toHaveLength(2);
    for (const request of stub.tokenRequests()) expect(request.headers.authorization).toBeUndefined();
  });

  it('after the direct PAT is rejected, exchanges tokens, and does so proactively for new scopes', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    const direct = await manager.authorizationFor({ registry: 'ghcr.io', scopes: ['repository:o/a:pull'] });
    expect(direct?.kind).toBe('direct');
    const exchanged = await manager.authorizationFor({
      registry: 'ghcr.io',
      scopes: ['repository:o/a:pull'],
      challenge: challenge('https://ghcr.io/token', 'repository:o/a:pull'),
      rejected: direct,
    });
    expect(exchanged?.kind).toBe('token');
    // Another repository: no 401 round trip, the known realm is used at once.
    const other = await manager.authorizationFor({ registry: 'ghcr.io', scopes: ['repository:o/b:pull'] });
    expect(other).toMatchObject({ kind: 'token', scopes: ['repository:o/b:pull'] });
    expect(other?.header).toBe('Bearer token-2');
    expect(stub.tokenRequests().map((request) => request.url.searchParams.get('scope'))).toEqual([
      'repository:o/a:pull',
      'repository:o/b:pull',
    ]);
  });

  it('answers a Basic challenge with Basic credentials, and nothing for unknown schemes', async () => {
    const manager = createTokenManager({ dispatcher: tokenEndpoint().dispatcher, credentials: pat });
    const basic = await manager.authorizationFor({
      registry: 'localhost:5000',
      challenge: parseWwwAuthenticate('Basic realm="Registry Realm"'),
    });
    expect(basic?.kind).toBe('basic');
    expect(basic?.header).toBe(`Basic ${Buffer.from(`octocat:${PAT}`).toString('base64')}`);
    expect(
      await manager.authorizationFor({
        registry: 'localhost:5000',
        challenge: parseWwwAuthenticate('Negotiate abc=='),
      }),
    ).toBeUndefined();
    const anonymous = createTokenManager({ dispatcher: tokenEndpoint().dispatcher });
    expect(
      await anonymous.authorizationFor({
        registry: 'localhost:5000',
        challenge: parseWwwAuthenticate('Basic realm="r"'),
      }),
    ).toBeUndefined();
  });

  it('uses the OAuth2 refresh-token grant (POST) for an identity token', async () => {
    const stub = tokenEndpoint(() => ({
      status: 200,
      body: { access_token: 'oauth-access', expires_in: 300 },
    }));
    const manager = createTokenManager({
      dispatcher: stub.dispatcher,
      credentials: staticCredentials({ identityToken: 'refresh-secret-0200' }),
    });
    const authorization = await manager.authorizationFor({
      registry: 'registry.example',
      scopes: ['repository:o/a:pull'],
      challenge: challenge('https://auth.example/token', undefined, 'registry.example'),
    });
    expect(authorization?.header).toBe('Bearer oauth-access');
    const [request] = stub.tokenRequests();
    expect(request?.method).toBe('POST');
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toMatchObject({
      grant_type: 'refresh_token',
      refresh_token: 'refresh-secret-0200',
      service: 'registry.example',
      scope: 'repository:o/a:pull',
    });
    expect(request?.headers.authorization).toBeUndefined();
  });
});

describe('caching, expiry and single flight', () => {
  const setup = (answer?: (request: StubRequest, count: number) => StubResponse, extra: object = {}) => {
    const clock = createManualClock();
    const stub = tokenEndpoint(answer);
    const events: TokenManagerEvent[] = [];
    const manager = createTokenManager({
      dispatcher: stub.dispatcher,
      credentials: pat,
      clock,
      onEvent: (event) => events.push(event),
      ...extra,
    });
    const ask = (scope = 'repository:o/a:pull') =>
      manager.authorizationFor({
        registry: 'registry.example',
        scopes: [scope],
        challenge: challenge('https://registry.example/token', scope, 'registry.example'),
      });
    return { clock, stub, manager, ask, events };
  };

  it('shares one fetch among 100 concurrent callers of one scope', async () => {
    const { stub, ask, events } = setup();
    const results = await Promise.all(Array.from({ length: 100 }, () => ask()));
    expect(stub.tokenRequests()).toHaveLength(1);
    expect(new Set(results.map((result) => result?.header))).toEqual(new Set(['Bearer token-1']));
    expect(events.filter((event) => event.type === 'cache-miss')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'fetch')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'cache-hit' && event.inFlight)).toHaveLength(99);
  });

  it('remembers the realm as soon as a challenge is handed over: proactive callers join that fetch', async () => {
    const { stub, manager, ask } = setup();
    // Not awaited: the transport releases the requests it held behind the first 401 right here.
    const answering = ask();
    const proactive = Array.from({ length: 5 }, () =>
      manager.authorizationFor({ registry: 'registry.example', scopes: ['repository:o/a:pull'] }),
    );
    const results = await Promise.all([answering, ...proactive]);
    expect(results.map((result) => result?.header)).toEqual(Array(6).fill('Bearer token-1'));
    expect(stub.tokenRequests()).toHaveLength(1);
  });

  it('reuses a token for the default TTL minus skew (60 s - 10 s), then fetches again', async () => {
    const { clock, stub, ask } = setup();
    expect((await ask())?.header).toBe('Bearer token-1');
    await clock.advance(49_999);
    expect((await ask())?.header).toBe('Bearer token-1');
    await clock.advance(1);
    expect((await ask())?.header).toBe('Bearer token-2');
    expect(stub.tokenRequests()).toHaveLength(2);
  });

  it('honours expires_in and issued_at', async () => {
    const clock0 = Date.UTC(2026, 0, 1);
    const { clock, ask } = setup((_request, count) => ({
      status: 200,
      // Issued 100 s before now, valid 300 s: 200 s left, minus 10 s skew.
      body: { token: `token-${count}`, expires_in: 300, issued_at: new Date(clock0 - 100_000).toISOString() },
    }));
    const first = await ask();
    expect(first?.expiresAt).toBe(clock0 + 190_000);
    await clock.advance(189_999);
    expect((await ask())?.header).toBe('Bearer token-1');
    await clock.advance(1);
    expect((await ask())?.header).toBe('Bearer token-2');
  });

  it('honours a JWT exp claim when there is no expires_in', async () => {
    const start = Date.UTC(2026, 0, 1);
    const { clock, ask } = setup((_request, count) => ({
      status: 200,
      body: { token: fakeJwt({ exp: start / 1000 + 600, n: count }) },
    }));
    const first = await ask();
    expect(first?.expiresAt).toBe(start + 590_000);
    await clock.advance(589_999);
    expect((await ask())?.header).toBe(first?.header);
    await clock.advance(1);
    expect((await ask())?.header).not.toBe(first?.header);
  });

  it('caps the skew at half of a short lifetime and never caches an expired token', async () => {
    const { clock, stub, ask } = setup((_request, count) =>
      count === 1
        ? { status: 200, body: { token: 't1', expires_in: 4 } }
        : { status: 200, body: { token: 't2', expires_in: -5 } },
    );
    expect((await ask())?.expiresAt).toBe(clock.now() + 2_000);
    await clock.advance(2_000);
    expect((await ask())?.header).toBe('Bearer t2');
    expect((await ask())?.header).toBe('Bearer t2');
    // An expires_in of -5 is ignored: the 60 s default applies, so the second ask was a hit.
    expect(stub.tokenRequests()).toHaveLength(2);
  });

  it('honours a configured default TTL and skew', async () => {
    const { clock, ask } = setup(undefined, { defaultTokenTtlSeconds: 300, expirySkewSeconds: 30 });
    expect((await ask())?.expiresAt).toBe(clock.now() + 270_000);
  });

  it('invalidate(authorization) after a 401 leads to one refetch, even with many concurrent 401s', async () => {
    const { stub, manager, ask, events } = setup();
    const stale = await ask();
    const retries = await Promise.all(
      Array.from({ length: 20 }, () =>
        manager.authorizationFor({
          registry: 'registry.example',
          scopes: ['repository:o/a:pull'],
          challenge: challenge('https://registry.example/token', 'repository:o/a:pull', 'registry.example'),
          rejected: stale,
        }),
      ),
    );
    expect(new Set(retries.map((retry) => retry?.header))).toEqual(new Set(['Bearer token-2']));
    expect(stub.tokenRequests()).toHaveLength(2);
    const invalidations = events.filter((event) => event.type === 'invalidate');
    expect(invalidations).toHaveLength(20);
    expect(invalidations.filter((event) => event.type === 'invalidate' && event.removed)).toHaveLength(1);
    // A stale authorization never drops the newer token.
    if (stale) manager.invalidate(stale);
    expect((await ask())?.header).toBe('Bearer token-2');
  });

  it('invalidate(key) drops whatever the key holds; clear() drops everything', async () => {
    const { stub, manager, ask } = setup();
    const first = await ask();
    manager.invalidate(first?.key ?? '');
    expect((await ask())?.header).toBe('Bearer token-2');
    manager.clear('registry.example');
    expect((await ask())?.header).toBe('Bearer token-3');
    manager.clear();
    expect((await ask())?.header).toBe('Bearer token-4');
    expect(stub.tokenRequests()).toHaveLength(4);
  });

  it('lets one caller abort its wait without failing the shared fetch', async () => {
    const { stub, manager } = setup();
    const controller = new AbortController();
    const request = {
      registry: 'registry.example',
      scopes: ['repository:o/a:pull'],
      challenge: challenge('https://registry.example/token', 'repository:o/a:pull', 'registry.example'),
    };
    const aborted = manager.authorizationFor({ ...request, signal: controller.signal });
    const other = manager.authorizationFor(request);
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect((await other)?.header).toBe('Bearer token-1');
    expect(stub.tokenRequests()).toHaveLength(1);
  });

  it('resolves credentials once per registry, shared by concurrent callers', async () => {
    const resolve = vi.fn(() => Promise.resolve({ credential: { password: PAT }, source: 'counted' }));
    const provider: CredentialProvider = { name: 'counted', resolve };
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: provider });
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        manager.authorizationFor({
          registry: 'registry.example',
          challenge: challenge(
            'https://registry.example/token',
            `repository:o/${name}:pull`,
            'registry.example',
          ),
        }),
      ),
    );
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(stub.tokenRequests()).toHaveLength(3);
  });
});

describe('realm validation', () => {
  it('refuses a plain-HTTP realm on a non-loopback host before sending anything', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    const error = await rejectionOf(
      manager.authorizationFor({
        registry: 'registry.example',
        challenge: challenge('http://registry.example/token'),
      }),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.AUTH_FAILED);
    expect((error as Error).message).toMatch(
      /refusing the plain-HTTP token realm "http:\/\/registry.example\/token"/,
    );
    expect(stub.log).toHaveLength(0);
  });

  it.each(['ftp://registry.example/token', '/token', 'https://user:pw@registry.example/token'])(
    'refuses the realm %s',
    async (realm) => {
      const stub = tokenEndpoint();
      const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
      const error = await rejectionOf(
        manager.authorizationFor({ registry: 'registry.example', challenge: challenge(realm) }),
      );
      expect((error as AuthenticationError).code).toBe(GhcrErrorCode.AUTH_FAILED);
      expect((error as Error).message).not.toContain(':pw@');
      expect(stub.log).toHaveLength(0);
    },
  );

  it('accepts plain HTTP on loopback hosts, or where allowInsecureRealm says so', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    for (const [registry, realm] of [
      ['127.0.0.1:5000', 'http://127.0.0.1:5001/token'],
      ['localhost:5000', 'http://localhost:5001/token'],
      ['[::1]:5000', 'http://[::1]:5001/token'],
    ] as const) {
      expect((await manager.authorizationFor({ registry, challenge: challenge(realm) }))?.kind).toBe('token');
    }
    const permissive = createTokenManager({
      dispatcher: stub.dispatcher,
      credentials: pat,
      allowInsecureRealm: (host) => host === 'registry.internal',
    });
    expect(
      (
        await permissive.authorizationFor({
          registry: 'registry.internal',
          challenge: challenge('http://registry.internal/token'),
        })
      )?.kind,
    ).toBe('token');
    expect(stub.tokenRequests()).toHaveLength(4);
  });

  it('sends credentials to a realm on another host only as the challenge names it, and only for that registry', async () => {
    const stub = tokenEndpoint();
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    await manager.authorizationFor({
      registry: 'registry.example',
      scopes: ['repository:o/a:pull'],
      challenge: challenge('https://auth.example/token', undefined, 'registry.example'),
    });
    expect(stub.tokenRequests().map((request) => request.url.host)).toEqual(['auth.example']);
    expect(stub.tokenRequests()[0]?.headers.authorization).toMatch(/^Basic /);
    // registry.example's realm is remembered for registry.example only: another registry gets
    // nothing until it challenges itself.
    expect(
      await manager.authorizationFor({ registry: 'other.example', scopes: ['repository:o/a:pull'] }),
    ).toBeUndefined();
    expect(
      (await manager.authorizationFor({ registry: 'registry.example', scopes: ['repository:o/b:pull'] }))
        ?.kind,
    ).toBe('token');
    expect(stub.tokenRequests().map((request) => request.url.host)).toEqual(['auth.example', 'auth.example']);
  });

  it('does not follow a redirect from the realm', async () => {
    const stub = tokenEndpoint(() => ({ status: 307, headers: { location: 'https://evil.example/token' } }));
    const manager = createTokenManager({ dispatcher: stub.dispatcher, credentials: pat });
    const error = await rejectionOf(
      manager.authorizationFor({
        registry: 'registry.example',
        challenge: challenge('https://registry.example/token'),
      }),
    );
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.AUTH_FAILED);
    expect((error as Error).message).toMatch(/redirect is not followed/);
    expect(stub.log.map((request) => request.url.host)).toEqual(['registry.example']);
  });
});

describe('token endpoint failures', () => {
  const fail = async (response: StubResponse, credentials: CredentialProvider | null = pat) => {
    const events: TokenManagerEvent[] = [];
    const manager = createTokenManager({
      dispatcher: tokenEndpoint(() => response).dispatcher,
      ...(credentials === null ? {} : { credentials }),
      onEvent: (event) => events.push(event),
    });
    const error = await rejectionOf(
      manager.authorizationFor({
        registry: 'ghcr.io',
        scopes: ['repository:o/a:pull'],
        challenge: challenge('https://ghcr.io/token?client_id=x&token=realm-query-secret'),
      }),
    );
    expectNoSecret(error, [PAT, `octocat:${PAT}`, 'realm-query-secret']);
    return { error: error as AuthenticationError, events };
  };

  it('maps 401 to AuthenticationError GHCR_AUTH_FAILED with the redacted realm and the body message', async () => {
    const { error, events } = await fail({
      status: 401,
      body: { errors: [{ code: 'UNAUTHORIZED', message: `bad credentials ${PAT}` }] },
    });
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(error.code).toBe(GhcrErrorCode.AUTH_FAILED);
    expect(error.isRetryable).toBe(false);
    expect(error.http?.status).toBe(401);
    expect(error.http?.url).toContain('token=REDACTED');
    expect(error.message).toMatch(
      /^GET "https:\/\/ghcr.io\/token\?client_id=x&token=REDACTED&service=ghcr.io&scope=/,
    );
    expect(error.message).toContain(
      'refused the credentials from test PAT: UNAUTHORIZED: bad credentials REDACTED',
    );
    expect(error.message).toMatch(/read:packages/);
    expect(events.find((event) => event.type === 'fetch-error')).toMatchObject({
      code: 'GHCR_AUTH_FAILED',
      status: 401,
    });
  });

  it('explains an anonymous refusal', async () => {
    const { error } = await fail({ status: 403, body: { details: 'denied' } }, null);
    expect(error.message).toMatch(
      /refused an anonymous token request: denied; the repository may be private/,
    );
  });

  it('maps 429 to RateLimitError with Retry-After', async () => {
    const { error } = await fail({ status: 429, headers: { 'retry-after': '7' }, body: 'slow down' });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as unknown as RateLimitError).retryAfterMs).toBe(7_000);
    expect(error.isRetryable).toBe(true);
  });

  it('reads GHCR-style retry-after in a 429 message', async () => {
    const { error } = await fail({
      status: 429,
      body: {
        errors: [{ code: 'TOOMANYREQUESTS', message: 'retry-after: 880.092µs, allowed: 44000/minute' }],
      },
    });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as unknown as RateLimitError).retryAfterMs).toBeGreaterThan(0);
  });

  it('marks 5xx retryable', async () => {
    const { error } = await fail({ status: 503, body: 'unavailable' });
    expect(error.code).toBe(GhcrErrorCode.AUTH_FAILED);
    expect(error.isRetryable).toBe(true);
  });

  it.each([
    ['a body that is not JSON', { status: 200, body: `token ${PAT}` }, /not a JSON token response/],
    ['no token field', { status: 200, body: { nope: PAT } }, /without a "token" or "access_token"/],
  ])('refuses %s without quoting it', async (_name, response, message) => {
    const { error } = await fail(response);
    expect(error.message).toMatch(message);
    expect(error.cause).toBeUndefined();
  });

  it('wraps a connection failure in TransportError', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://down.example')
      .intercept({ path: () => true, method: 'GET' })
      .replyWithError(new Error('connect ECONNREFUSED'));
    const manager = createTokenManager({ dispatcher: agent, credentials: pat });
    const error = await rejectionOf(
      manager.authorizationFor({
        registry: 'down.example',
        challenge: challenge('https://down.example/token'),
      }),
    );
    expect(TransportError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /token request to https:\/\/down.example\/token\?service=ghcr.io for down.example failed: connect ECONNREFUSED/,
    );
  });

  it('reports a failing credential source without caching the failure', async () => {
    let calls = 0;
    const flaky: CredentialProvider = {
      name: 'flaky',
      resolve: () => {
        calls++;
        return calls === 1
          ? Promise.reject(
              new AuthenticationError('helper broke', { code: GhcrErrorCode.CREDENTIALS_UNAVAILABLE }),
            )
          : Promise.resolve({ credential: { password: PAT }, source: 'flaky' });
      },
    };
    const manager = createTokenManager({ dispatcher: tokenEndpoint().dispatcher, credentials: flaky });
    const request = { registry: 'registry.example', challenge: challenge('https://registry.example/token') };
    await expect(manager.authorizationFor(request)).rejects.toThrow('helper broke');
    expect((await manager.authorizationFor(request))?.kind).toBe('token');
  });
});
