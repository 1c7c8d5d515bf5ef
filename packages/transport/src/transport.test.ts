import {
  AuthenticationError,
  GhcrError,
  NotFoundError,
  RateLimitError,
  ServerError,
  ThrottleTimeoutError,
  TransportError,
} from '@ghcr/oci-types';
import { createRecordingClock, settle } from '@ghcr/test-support';
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createTransport, type TransportOptions, transportDetails } from './transport.js';
import type { Middleware, TransportRequest } from './types.js';

const ORIGIN = 'https://registry.test';

function setup(options: Partial<TransportOptions> = {}) {
  const agent = new MockAgent({ enableCallHistory: true });
  agent.disableNetConnect();
  const clock = createRecordingClock();
  const seen: TransportRequest[] = [];
  const log: Middleware = (next) => (request, context) => {
    seen.push(request);
    return next(request, context);
  };
  const transport = createTransport({
    dispatcher: agent,
    clock,
    retry: { random: () => 0 },
    middleware: [{ name: 'log', middleware: log, after: 'redirect' }],
    ...options,
  });
  return { agent, clock, transport, seen, pool: agent.get(ORIGIN) };
}

const get = (path: string, extra: Partial<TransportRequest> = {}): TransportRequest => ({
  operation: 'test.get',
  method: 'GET',
  url: `${ORIGIN}${path}`,
  ...extra,
});

describe('pipeline', () => {
  it('runs the layers in the documented order, with user middleware where placed', () => {
    const { transport } = setup();
    expect(transportDetails(transport).pipeline).toEqual([
      'tracing',
      'metrics',
      'errors',
      'rate-limit',
      'retry',
      'auth',
      'redirect',
      'log',
    ]);
  });

  it('rejects duplicate middleware names and unknown anchors with ConfigError', () => {
    const m: Middleware = (next) => next;
    expect(() => createTransport({ middleware: [{ name: 'retry', middleware: m, before: 'auth' }] })).toThrow(
      /already in the pipeline/,
    );
    expect(() => createTransport({ middleware: [{ name: 'x', middleware: m, before: 'nope' }] })).toThrow(
      /cannot place/,
    );
  });

  it('names the bad option in a ConfigError', () => {
    try {
      createTransport({ connections: -1 });
      expect.unreachable();
    } catch (error) {
      expect(GhcrError.isInstance(error) && error.code).toBe('GHCR_CONFIG');
      expect((error as Error).message).toContain('"connections"');
    }
  });
});

describe('errors', () => {
  it('maps a distribution error body to NotFoundError with the spec code', async () => {
    const { transport, pool } = setup();
    pool
      .intercept({ path: '/v2/o/n/manifests/x', method: 'GET' })
      .reply(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] });
    const error = await transport.send(get('/v2/o/n/manifests/x')).catch((e: unknown) => e);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as NotFoundError).code).toBe('MANIFEST_UNKNOWN');
    expect((error as Error).message).toBe(
      `GET "${ORIGIN}/v2/o/n/manifests/x": status 404: not found: manifest unknown`,
    );
  });

  it('hands back accepted statuses instead of throwing', async () => {
    const { transport, pool } = setup();
    pool.intercept({ path: '/v2/o/n/blobs/x', method: 'HEAD' }).reply(404, '');
    const response = await transport.send(get('/v2/o/n/blobs/x', { method: 'HEAD', acceptStatus: [404] }));
    expect(response.status).toBe(404);
  });
});

describe('retry (seed §6.2)', () => {
  for (const status of [500, 502, 503, 504]) {
    it(`retries ${status} up to 3 times with 1, 2, 4 s backoff, then fails`, async () => {
      const { transport, pool, clock, seen } = setup();
      pool.intercept({ path: '/x', method: 'GET' }).reply(status, 'boom').times(4);
      const error = await settle(
        transport.send(get('/x')).catch((e: unknown) => e),
        clock,
      );
      expect(ServerError.isInstance(error)).toBe(true);
      expect(seen).toHaveLength(4);
      expect(clock.sleeps).toEqual([1000, 2000, 4000]);
    });
  }

  it('succeeds when a retry succeeds', async () => {
    const { transport, pool, clock, seen } = setup();
    pool.intercept({ path: '/x', method: 'GET' }).reply(503, 'busy');
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, 'ok');
    const response = await settle(transport.send(get('/x')), clock);
    expect(await response.body.text()).toBe('ok');
    expect(seen).toHaveLength(2);
  });

  it('retries 408 like a 5xx (retryability is decided in one place)', async () => {
    const { transport, pool, clock, seen } = setup();
    pool.intercept({ path: '/x', method: 'GET' }).reply(408, 'timeout');
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, 'ok');
    const response = await settle(transport.send(get('/x')), clock);
    expect(await response.body.text()).toBe('ok');
    expect(seen).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('honours Retry-After on a PUT with a replayable body, and counts the attempts in the final error', async () => {
    const { transport, pool, clock, seen } = setup({ retry: { maxRetries: 1, random: () => 0 } });
    pool
      .intercept({ path: '/up', method: 'PUT' })
      .reply(503, 'busy', { headers: { 'retry-after': '5' } })
      .times(2);
    const error = await settle(
      transport.send(get('/up', { method: 'PUT', body: 'abc' })).catch((caught: unknown) => caught),
      clock,
    );
    expect(seen).toHaveLength(2);
    expect(clock.sleeps).toEqual([5000]);
    expect((error as Error).message).toMatch(
      /status 503: service unavailable: busy; the registry is failing \(2 attempts\): retry later$/,
    );
  });

  it('honours a Retry-After longer than the backoff on 503', async () => {
    const { transport, pool, clock } = setup();
    pool.intercept({ path: '/x', method: 'GET' }).reply(503, 'busy', { headers: { 'retry-after': '7' } });
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, 'ok');
    await settle(transport.send(get('/x')), clock);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('applies jitter below the nominal delay', async () => {
    const { transport, pool, clock } = setup({ retry: { random: () => 0.5, jitter: 0.2 } });
    pool.intercept({ path: '/x', method: 'GET' }).reply(500, '').times(2);
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, '');
    await settle(transport.send(get('/x')), clock);
    expect(clock.sleeps).toEqual([900, 1800]);
  });

  for (const status of [400, 401, 403, 404]) {
    it(`never retries ${status}`, async () => {
      const { transport, pool, seen } = setup();
      pool.intercept({ path: '/x', method: 'GET' }).reply(status, '{}');
      await expect(transport.send(get('/x'))).rejects.toBeInstanceOf(GhcrError);
      expect(seen).toHaveLength(1);
    });
  }

  it('retries connection errors, then fails with a retryable TransportError', async () => {
    const { transport, pool, clock, seen } = setup();
    pool
      .intercept({ path: '/x', method: 'GET' })
      .replyWithError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .times(4);
    const error = await settle(
      transport.send(get('/x')).catch((e: unknown) => e),
      clock,
    );
    expect(TransportError.isInstance(error)).toBe(true);
    expect((error as TransportError).code).toBe('GHCR_CONNECTION_FAILED');
    expect(seen).toHaveLength(4);
  });

  it('does not retry a one-shot stream body', async () => {
    const { transport, pool, seen } = setup();
    pool.intercept({ path: '/up', method: 'PUT' }).reply(503, '');
    async function* once() {
      yield new Uint8Array([1, 2, 3]);
    }
    await expect(
      transport.send({ operation: 'blobs.upload', method: 'PUT', url: `${ORIGIN}/up`, body: once() }),
    ).rejects.toSatisfy((e: unknown) => ServerError.isInstance(e));
    expect(seen).toHaveLength(1);
  });

  it('retries a body factory with a fresh stream each time', async () => {
    const { transport, pool, clock } = setup();
    const bodies: string[] = [];
    pool.intercept({ path: '/up', method: 'PUT' }).reply(500, (options) => {
      bodies.push(String(options.body));
      return '';
    });
    pool.intercept({ path: '/up', method: 'PUT' }).reply(201, (options) => {
      bodies.push(String(options.body));
      return '';
    });
    let calls = 0;
    const response = await settle(
      transport.send({
        operation: 'blobs.upload',
        method: 'PUT',
        url: `${ORIGIN}/up`,
        body: () => {
          calls += 1;
          return (async function* () {
            yield Buffer.from('payload');
          })();
        },
      }),
      clock,
    );
    expect(response.status).toBe(201);
    expect(calls).toBe(2);
  });
});

describe('rate limiting', () => {
  it('waits for Retry-After seconds on 429 and retries', async () => {
    const { transport, pool, clock, seen } = setup();
    pool.intercept({ path: '/x', method: 'GET' }).reply(429, '', { headers: { 'retry-after': '3' } });
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, 'ok');
    await settle(transport.send(get('/x')), clock);
    expect(clock.sleeps).toEqual([3000]);
    expect(seen).toHaveLength(2);
  });

  it('waits for an HTTP-date Retry-After', async () => {
    const { transport, pool, clock } = setup();
    const at = new Date(clock.now() + 42_000).toUTCString();
    pool.intercept({ path: '/x', method: 'GET' }).reply(429, '', { headers: { 'retry-after': at } });
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, 'ok');
    await settle(transport.send(get('/x')), clock);
    expect(clock.sleeps).toEqual([42_000]);
  });

  it("reads GHCR's retry-after inside the 429 message", async () => {
    const { transport, pool, clock } = setup();
    pool.intercept({ path: '/x', method: 'GET' }).reply(429, {
      errors: [
        {
          code: 'TOOMANYREQUESTS',
          message: 'toomanyrequests: retry-after: 10.305464ms, allowed: 2000/minute',
        },
      ],
    });
    pool.intercept({ path: '/x', method: 'GET' }).reply(200, 'ok');
    await settle(transport.send(get('/x')), clock, 1);
    expect(clock.sleeps).toEqual([11]);
  });

  it('waits until x-ratelimit-reset on a primary-limit 403, and at least 60 s when nothing says how long', async () => {
    const { transport, pool, clock } = setup();
    const reset = Math.floor(clock.now() / 1000) + 120;
    pool.intercept({ path: '/user', method: 'GET' }).reply(
      403,
      { message: 'API rate limit exceeded' },
      {
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-reset': String(reset),
        },
      },
    );
    pool.intercept({ path: '/user', method: 'GET' }).reply(429, '{}');
    pool.intercept({ path: '/user', method: 'GET' }).reply(200, '{}');
    await settle(transport.send(get('/user', { auth: { kind: 'none' } })), clock, 1000);
    expect(clock.sleeps[0]).toBe(reset * 1000 - Date.UTC(2026, 0, 1));
    expect(clock.sleeps.at(-1)).toBeGreaterThanOrEqual(60_000);
  });

  it("treats GitHub's 403 secondary limit as a rate limit, and gives up after 3 retries with RateLimitError", async () => {
    const { transport, pool, clock, seen } = setup();
    pool
      .intercept({ path: '/x', method: 'DELETE' })
      .reply(
        403,
        {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        },
        {
          headers: { 'retry-after': '30' },
        },
      )
      .times(4);
    const error = await settle(
      transport.send(get('/x', { method: 'DELETE' })).catch((e: unknown) => e),
      clock,
      1000,
    );
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).code).toBe('GHCR_SECONDARY_RATE_LIMITED');
    expect(seen).toHaveLength(4);
    expect(clock.sleeps).toEqual([30_000, 30_000, 30_000]);
  });

  it('fails with ThrottleTimeout when the wait exceeds maxWaitMs', async () => {
    const { transport, pool } = setup({ rateLimit: { maxWaitMs: 10_000 } });
    pool.intercept({ path: '/x', method: 'GET' }).reply(429, '', { headers: { 'retry-after': '60' } });
    const error = await transport.send(get('/x')).catch((e: unknown) => e);
    expect(ThrottleTimeoutError.isInstance(error)).toBe(true);
    expect((error as ThrottleTimeoutError).waitMs).toBe(60_000);
  });

  it('lets onRateLimit veto the wait', async () => {
    const events: unknown[] = [];
    const { transport, pool, seen } = setup({
      rateLimit: {
        onRateLimit: (event) => {
          events.push(event);
          return false;
        },
      },
    });
    pool.intercept({ path: '/x', method: 'GET' }).reply(429, '', { headers: { 'retry-after': '5' } });
    const error = await transport.send(get('/x')).catch((e: unknown) => e);
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect((error as RateLimitError).retryAfterMs).toBe(5000);
    expect(seen).toHaveLength(1);
    expect(events).toMatchObject([{ reason: 'retry-after', waitMs: 5000, operation: 'test.get' }]);
  });

  it('throttles pre-emptively below 20% remaining, proportionally to what is left', async () => {
    const { transport, pool, clock } = setup();
    const reset = Math.floor(clock.now() / 1000) + 100;
    const headers = (remaining: number) => ({
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': String(remaining),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-resource': 'core',
    });
    pool.intercept({ path: '/a', method: 'GET' }).reply(200, '', { headers: headers(50) });
    pool.intercept({ path: '/b', method: 'GET' }).reply(200, '', { headers: headers(9) });
    pool.intercept({ path: '/c', method: 'GET' }).reply(200, '', { headers: headers(8) });
    await settle(transport.send(get('/a')), clock);
    expect(clock.sleeps).toEqual([]);
    await settle(transport.send(get('/b')), clock);
    expect(clock.sleeps).toEqual([]); // 50% was left before /b
    await settle(transport.send(get('/c')), clock, 1000);
    // 9 of 100 left, 100 s to the reset: spread over the remaining requests → 10 s.
    expect(clock.sleeps).toEqual([10_000]);
  });

  it('paces GitHub API DELETEs to the write-points budget (5 points each)', async () => {
    const { transport, pool, clock, seen } = setup({ rateLimit: { apiPointsPerMinute: 20 } });
    pool
      .intercept({ path: /\/v\/\d+/, method: 'DELETE' })
      .reply(204, '')
      .times(6);
    const start = clock.now();
    const times: number[] = [];
    await settle(
      Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          transport
            .send({
              operation: 'versions.delete',
              method: 'DELETE',
              url: `${ORIGIN}/v/${i}`,
              auth: { kind: 'github-api' },
            })
            .then(() => times.push(clock.now() - start)),
        ),
      ),
      clock,
      1000,
    );
    expect(seen).toHaveLength(6);
    // 20 points a minute = 4 DELETEs a minute: the first 4 at once, the next 2 a minute later.
    expect(times.filter((t) => t < 60_000)).toHaveLength(4);
    expect(times.filter((t) => t >= 60_000)).toHaveLength(2);
  });
});

describe('redirects', () => {
  it('follows a cross-origin 307 for GET and drops Authorization and cookies', async () => {
    const { transport, agent, pool, seen } = setup();
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:x', method: 'GET' })
      .reply(307, '', { headers: { location: 'https://blobs.test/b?sig=secret&se=1' } });
    agent
      .get('https://blobs.test')
      .intercept({ path: '/b?sig=secret&se=1', method: 'GET' })
      .reply(200, 'bytes');
    const response = await transport.send(
      get('/v2/o/n/blobs/sha256:x', {
        headers: { authorization: 'Bearer abc', cookie: 'a=b', accept: '*/*' },
      }),
    );
    expect(await response.body.text()).toBe('bytes');
    expect(seen[1]?.headers).toEqual({ 'user-agent': 'ghcr-ts', accept: '*/*' });
    expect(seen[1]?.auth).toEqual({ kind: 'none' });
    expect(response.url).toBe('https://blobs.test/b?sig=REDACTED&se=1');
  });

  it('keeps credentials on a same-origin redirect and stops after maxRedirects', async () => {
    const { transport, pool, seen } = setup({ maxRedirects: 2 });
    pool
      .intercept({ path: /\/loop/, method: 'GET' })
      .reply(302, '', { headers: { location: '/loop' } })
      .times(3);
    await expect(transport.send(get('/loop', { headers: { authorization: 'Bearer abc' } }))).rejects.toThrow(
      /more than 2 redirects/,
    );
    expect(seen.every((r) => r.headers?.authorization === 'Bearer abc')).toBe(true);
  });

  it('asks the registry again, once, when the signed URL it redirected to has expired (403)', async () => {
    const { transport, agent, pool, seen } = setup();
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:x', method: 'GET' })
      .reply(307, '', { headers: { location: 'https://blobs.test/b?sig=old' } });
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:x', method: 'GET' })
      .reply(307, '', { headers: { location: 'https://blobs.test/b?sig=new' } });
    const host = agent.get('https://blobs.test');
    host.intercept({ path: '/b?sig=old', method: 'GET' }).reply(403, 'Request has expired');
    host.intercept({ path: '/b?sig=new', method: 'GET' }).reply(200, 'bytes');
    const response = await transport.send(get('/v2/o/n/blobs/sha256:x'));
    expect(await response.body.text()).toBe('bytes');
    expect(seen.map((request) => request.url)).toEqual([
      `${ORIGIN}/v2/o/n/blobs/sha256:x`,
      'https://blobs.test/b?sig=old',
      `${ORIGIN}/v2/o/n/blobs/sha256:x`,
      'https://blobs.test/b?sig=new',
    ]);
  });

  it('gives up with an error that says the signed URL expired (not "log in") when the fresh URL is refused too', async () => {
    const { transport, agent, pool, seen } = setup();
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:x', method: 'GET' })
      .reply(307, '', { headers: { location: 'https://blobs.test/b?sig=s' } })
      .times(2);
    agent
      .get('https://blobs.test')
      .intercept({ path: '/b?sig=s', method: 'GET' })
      .reply(403, 'denied')
      .times(2);
    const error = await transport.send(get('/v2/o/n/blobs/sha256:x')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GHCR_UNEXPECTED_RESPONSE', isRetryable: false });
    expect((error as Error).message).toMatch(
      /the blob host blobs\.test refused the signed URL .* \(status 403\), also when asked again; .*: retry, and check this machine's clock$/,
    );
    expect((error as Error).message).not.toContain('sig=');
    expect(seen).toHaveLength(4);
  });

  it('does not follow redirects for PUT', async () => {
    const { transport, pool } = setup();
    pool.intercept({ path: '/x', method: 'PUT' }).reply(307, '', { headers: { location: '/y' } });
    const response = await transport.send(get('/x', { method: 'PUT', body: 'a', acceptStatus: [307] }));
    expect(response.status).toBe(307);
  });
});

describe('auth layer', () => {
  it('answers one 401 challenge and re-sends with the new header', async () => {
    const challenges: string[] = [];
    const { transport, pool, seen } = setup({
      authorizer: {
        authorize: async () => 'Bearer stale',
        challenge: async (_target, header, rejected) => {
          challenges.push(`${header} | ${rejected}`);
          return 'Bearer fresh';
        },
        authorizeApi: async () => undefined,
      },
    });
    pool.intercept({ path: '/v2/o/n/tags/list', method: 'GET' }).reply(401, '', {
      headers: { 'www-authenticate': 'Bearer realm="https://registry.test/token",service="registry.test"' },
    });
    pool.intercept({ path: '/v2/o/n/tags/list', method: 'GET' }).reply(200, '{}');
    const response = await transport.send(
      get('/v2/o/n/tags/list', { auth: { kind: 'registry', repository: 'o/n', actions: ['pull'] } }),
    );
    expect(response.status).toBe(200);
    expect(seen.map((r) => r.headers?.authorization)).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(challenges).toEqual([
      'Bearer realm="https://registry.test/token",service="registry.test" | Bearer stale',
    ]);
  });

  it('gives up after one refresh with AuthenticationError', async () => {
    const { transport, pool, seen } = setup({
      authorizer: {
        authorize: async () => undefined,
        challenge: async (_t, _h, rejected) => (rejected === undefined ? 'Bearer one' : 'Bearer two'),
        authorizeApi: async () => undefined,
      },
    });
    pool
      .intercept({ path: '/x', method: 'GET' })
      .reply(401, '', { headers: { 'www-authenticate': 'Bearer realm="r"' } })
      .times(3);
    const error = await transport
      .send(get('/x', { auth: { kind: 'registry', actions: ['pull'] } }))
      .catch((e: unknown) => e);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect(seen).toHaveLength(2);
  });
});

describe('abort', () => {
  it('fails with a non-retryable GHCR_ABORTED TransportError when the signal aborts', async () => {
    const { transport, pool, seen } = setup();
    pool.intercept({ path: '/slow', method: 'GET' }).reply(200, 'x').delay(10_000);
    const controller = new AbortController();
    const pending = transport.send(get('/slow', { signal: controller.signal })).catch((e: unknown) => e);
    controller.abort();
    const error = await pending;
    expect(TransportError.isInstance(error)).toBe(true);
    expect((error as TransportError).code).toBe('GHCR_ABORTED');
    expect((error as TransportError).isRetryable).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('stops waiting out a rate limit when aborted', async () => {
    const { transport, pool } = setup();
    pool.intercept({ path: '/x', method: 'GET' }).reply(429, '', { headers: { 'retry-after': '600' } });
    const controller = new AbortController();
    const pending = transport.send(get('/x', { signal: controller.signal })).catch((e: unknown) => e);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new Error('user cancelled'));
    const error = await pending;
    expect(TransportError.isInstance(error) && error.code).toBe('GHCR_ABORTED');
    expect((error as Error).cause).toMatchObject({ message: 'user cancelled' });
  });
});
