import { buildImageManifest } from '@ghcr/manifest';
import { digestOf, MediaType, parseRetryAfterInMessage } from '@ghcr/oci-types';
import { beforeEach, describe, expect, it } from 'vitest';
import { pushImage } from '../scenarios/push.js';
import { createTestBed, type TestBed, uploadBlob } from '../testing/test-bed.js';
import { formatGoDuration } from './go-duration.js';
import { createRegistryRateLimiter } from './rate-limit.js';

const GHCR_UNSUPPORTED = { errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] };

describe('ghcr profile: authentication', () => {
  let bed: TestBed;
  let pat: string;
  beforeEach(() => {
    bed = createTestBed();
    pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
  });

  it('challenges /v2/ with the placeholder scope and a repository with its own, naming push for writes', async () => {
    const base = await bed.call('GET', '/v2/');
    expect(base.status).toBe(401);
    expect(base.header('www-authenticate')).toBe(
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"',
    );
    const pull = await bed.call('GET', '/v2/octocat/app/manifests/latest');
    expect(pull.header('www-authenticate')).toBe(
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:octocat/app:pull"',
    );
    const push = await bed.call('POST', '/v2/octocat/app/blobs/uploads/');
    expect(push.header('www-authenticate')).toBe(
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:octocat/app:pull,push"',
    );
  });

  it('exchanges Basic <any user>:<PAT> for {"token"} without expires_in; the token really expires', async () => {
    const response = await bed.call('GET', '/token?service=ghcr.io&scope=repository:octocat/app:pull,push', {
      headers: { authorization: `Basic ${Buffer.from(`whoever:${pat}`).toString('base64')}` },
    });
    expect(response.status).toBe(200);
    const body = response.json<Record<string, unknown>>();
    expect(Object.keys(body)).toEqual(['token']);
    const token = body.token as string;
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { token })).status).toBe(202);
    await bed.clock.advance(299_000);
    expect((await bed.call('GET', '/v2/', { token })).status).toBe(200);
    await bed.clock.advance(1_000);
    const expired = await bed.call('GET', '/v2/', { token });
    expect(expired.status).toBe(401);
  });

  it('honours tokenTtlSeconds', async () => {
    const short = createTestBed({ tokenTtlSeconds: 60 });
    const shortPat = short.sim.createToken({ user: 'octocat', scopes: ['read:packages'] });
    const token = await short.token(shortPat, 'repository:octocat/app:pull');
    await short.clock.advance(60_000);
    expect((await short.call('GET', '/v2/', { token })).status).toBe(401);
  });

  it('refuses Bearer and unknown PATs at the token endpoint', async () => {
    const bearer = await bed.call('GET', '/token?scope=repository:octocat/app:pull', {
      headers: { authorization: `Bearer ${pat}` },
    });
    expect(bearer.status).toBe(401);
    const wrong = await bed.call('GET', '/token?scope=repository:octocat/app:pull', {
      headers: { authorization: `Basic ${Buffer.from('x:ghp_notarealtoken').toString('base64')}` },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.json()).toEqual({ errors: [{ code: 'DENIED', message: 'denied' }] });
  });

  it('accepts Authorization: Bearer base64(PAT) on /v2 without an exchange (also base64(user:PAT))', async () => {
    expect((await bed.call('GET', '/v2/', { pat })).status).toBe(200);
    const userPat = Buffer.from(`octocat:${pat}`).toString('base64');
    expect((await bed.call('GET', '/v2/', { headers: { authorization: `Bearer ${userPat}` } })).status).toBe(
      200,
    );
  });

  it('refuses Basic credentials sent straight to /v2 with DENIED "invalid token"', async () => {
    const response = await bed.call('GET', '/v2/', {
      headers: { authorization: `Basic ${Buffer.from(`x:${pat}`).toString('base64')}` },
    });
    expect(response.status).toBe(403);
    expect(response.json()).toEqual({ errors: [{ code: 'DENIED', message: 'invalid token' }] });
  });

  it('issues anonymous tokens that can pull public packages only', async () => {
    await pushImage(bed.sim, 'octocat/public', { tag: 'latest' });
    await pushImage(bed.sim, 'octocat/private', { tag: 'latest' });
    bed.sim.setVisibility('octocat', 'public', 'public');
    const anonymous = await bed.token(
      undefined,
      'repository:octocat/public:pull',
      'repository:octocat/private:pull',
    );
    expect((await bed.call('GET', '/v2/octocat/public/manifests/latest', { token: anonymous })).status).toBe(
      200,
    );
    const refused = await bed.call('GET', '/v2/octocat/private/manifests/latest', { token: anonymous });
    expect(refused.status).toBe(401);
    expect(refused.header('www-authenticate')).toContain('error="insufficient_scope"');
  });

  it('refuses anonymous tokens when anonymousPull is off', async () => {
    const closed = createTestBed({ anonymousPull: false });
    const response = await closed.call('GET', '/token?scope=repository:octocat/public:pull');
    expect(response.status).toBe(401);
  });

  it('answers insufficient_scope when a token lacks an action (read-only PAT pushing)', async () => {
    const readOnly = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages'] });
    const token = await bed.token(readOnly, 'repository:octocat/app:pull,push');
    const response = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { token });
    expect(response.status).toBe(401);
    expect(response.header('www-authenticate')).toBe(
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:octocat/app:pull,push",error="insufficient_scope"',
    );
    expect(response.json()).toMatchObject({ errors: [{ code: 'UNAUTHORIZED' }] });
    const direct = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat: readOnly });
    expect(direct.status).toBe(401);
  });

  it('does not let a user push to another user’s namespace', async () => {
    bed.sim.createUser('someone-else');
    const response = await bed.call('POST', '/v2/someone-else/app/blobs/uploads/', { pat });
    expect(response.status).toBe(401);
  });
});

describe('ghcr profile: long installation tokens', () => {
  it('accepts a long ghs_ token as Bearer base64(token) and as the password at /token: no token shape is checked', async () => {
    const bed = createTestBed();
    // GitHub App installation tokens are moving to a longer ghs_ format (snok/container-retention-policy#129).
    const long = `ghs_${'Zz9_'.repeat(130)}`;
    expect(
      bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'], token: long }),
    ).toBe(long);
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat: long })).status).toBe(202);
    const token = await bed.token(long, 'repository:octocat/app:pull,push');
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { token })).status).toBe(202);
  });
});

describe('ghcr profile: quirks', () => {
  let bed: TestBed;
  let pat: string;
  beforeEach(() => {
    bed = createTestBed();
    pat = bed.sim.createToken({
      user: 'octocat',
      scopes: ['read:packages', 'write:packages', 'delete:packages'],
    });
  });

  it('creates the package on first push under an unknown owner, as an organisation administered by the pusher', async () => {
    expect(bed.sim.state.getOwner('new-org')).toBeUndefined();
    await uploadBlob(bed, 'new-org/tool', 'first', { pat });
    const owner = bed.sim.state.getOwner('new-org');
    expect(owner).toMatchObject({ type: 'Organization', admins: ['octocat'] });
    const repository = bed.sim.state.findPackage('new-org', 'tool');
    expect(repository?.package).toMatchObject({ owner: 'new-org', name: 'tool', visibility: 'private' });
  });

  it('answers DELETE of a manifest with 405 UNSUPPORTED, even with delete:packages', async () => {
    const image = await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    for (const reference of ['latest', image.digest]) {
      const response = await bed.call('DELETE', `/v2/octocat/app/manifests/${reference}`, { pat });
      expect(response.status).toBe(405);
      expect(response.json()).toEqual(GHCR_UNSUPPORTED);
    }
    const blob = await bed.call('DELETE', `/v2/octocat/app/blobs/${image.config.digest}`, { pat });
    expect(blob.status).toBe(405);
    expect((await bed.call('GET', '/v2/octocat/app/manifests/latest', { pat })).status).toBe(200);
  });

  it('has no referrers API (404) and sends no OCI-Subject', async () => {
    const image = await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    const response = await bed.call('GET', `/v2/octocat/app/referrers/${image.digest}`, { pat });
    expect(response.status).toBe(404);
    const empty = await uploadBlob(bed, 'octocat/app', '{}', { pat });
    const artifact = buildImageManifest({
      config: { mediaType: MediaType.OciEmpty, digest: empty, size: 2 },
      layers: [{ mediaType: MediaType.OciEmpty, digest: empty, size: 2 }],
      artifactType: 'application/vnd.example+json',
      subject: image.descriptor,
    });
    const put = await bed.call('PUT', `/v2/octocat/app/manifests/${artifact.digest}`, {
      pat,
      body: artifact.bytes,
      headers: { 'content-type': artifact.mediaType },
    });
    expect(put.status).toBe(201);
    expect(put.header('oci-subject')).toBeUndefined();
  });

  it('refuses a PATCH body declared over 4 MiB with 416 and GHCR’s message; 4 MiB exactly passes', async () => {
    const started = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat });
    const location = started.header('location') ?? '';
    expect(location).toMatch(/^\/v2\/octocat\/app\/blobs\/uploads\/[0-9a-f-]+$/);
    const tooBig = await bed.call('PATCH', location, { pat, body: Buffer.alloc(4 * 1024 * 1024 + 1) });
    expect(tooBig.status).toBe(416);
    expect(tooBig.json()).toMatchObject({
      errors: [
        { message: 'the request body is too large and exceeds the maximum permissible limit of 4.00MiB' },
      ],
    });
    const exact = await bed.call('PATCH', location, { pat, body: Buffer.alloc(4 * 1024 * 1024) });
    expect(exact.status).toBe(202);
    async function* streamed() {
      for (let i = 0; i < 5; i++) yield Buffer.alloc(1024 * 1024);
    }
    const noLength = await bed.call('PATCH', location, { pat, body: streamed() });
    expect(noLength.status).toBe(202);
    expect(noLength.header('range')).toBe(`0-${9 * 1024 * 1024 - 1}`);
  });

  it('uses maxUploadChunkBytes in the message', async () => {
    const small = createTestBed({ maxUploadChunkBytes: 1024 * 1024 });
    const smallPat = small.sim.createToken({ user: 'octocat', scopes: ['write:packages'] });
    const started = await small.call('POST', '/v2/octocat/app/blobs/uploads/', { pat: smallPat });
    const response = await small.call('PATCH', started.header('location') ?? '', {
      pat: smallPat,
      body: Buffer.alloc(1024 * 1024 + 1),
    });
    expect(response.json()).toMatchObject({
      errors: [
        { message: 'the request body is too large and exceeds the maximum permissible limit of 1.00MiB' },
      ],
    });
  });

  it('redirects blob GET (307) to a signed, expiring URL on the blob host, which refuses Authorization', async () => {
    const data = Buffer.from('redirected bytes');
    const digest = await uploadBlob(bed, 'octocat/app', data, { pat });
    const head = await bed.call('HEAD', `/v2/octocat/app/blobs/${digest}`, { pat });
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe(String(data.byteLength));
    const redirect = await bed.call('GET', `/v2/octocat/app/blobs/${digest}`, { pat });
    expect(redirect.status).toBe(307);
    const location = new URL(redirect.header('location') ?? '');
    expect(location.origin).toBe('https://pkg-containers.githubusercontent.com');
    expect(location.pathname).toBe(`/ghcr1/blobs/${digest}`);
    expect(location.searchParams.get('sig')).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(location.searchParams.get('se')).toBe('2026-01-01T00:10:00Z');

    const withAuth = await bed.call('GET', location.toString(), { pat });
    expect(withAuth.status).toBe(403);
    expect(withAuth.text).toContain('AuthenticationFailed');
    const ok = await bed.call('GET', location.toString());
    expect(ok.status).toBe(200);
    expect(ok.body.equals(data)).toBe(true);
    const ranged = await bed.call('GET', location.toString(), { headers: { range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);
    expect(ranged.text).toBe('redirected');

    const tampered = new URL(location);
    tampered.searchParams.set('se', '2030-01-01T00:00:00Z');
    expect((await bed.call('GET', tampered.toString())).status).toBe(403);
    const otherBlob = new URL(location);
    otherBlob.pathname = `/ghcr1/blobs/${digestOf('other')}`;
    expect((await bed.call('GET', otherBlob.toString())).status).toBe(403);
    await bed.clock.advance(600_000);
    const expired = await bed.call('GET', location.toString());
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('expiry');
  });

  it('counts manifest GETs (not HEADs) as downloads', async () => {
    const image = await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    await bed.call('GET', '/v2/octocat/app/manifests/latest', { pat });
    await bed.call('GET', `/v2/octocat/app/manifests/${image.digest}`, { pat });
    await bed.call('HEAD', '/v2/octocat/app/manifests/latest', { pat });
    expect(image.record.downloadCount).toBe(2);
  });

  it('serves OCI manifests to Accept: */* (lenient) but not to an Accept naming only Docker types', async () => {
    await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    expect(
      (await bed.call('GET', '/v2/octocat/app/manifests/latest', { pat, headers: { accept: '*/*' } })).status,
    ).toBe(200);
    expect(
      (
        await bed.call('GET', '/v2/octocat/app/manifests/latest', {
          pat,
          headers: { accept: MediaType.DockerManifest },
        })
      ).status,
    ).toBe(404);
  });

  it('pages tags/list at 100 by default with a Link, and returns everything for a large n', async () => {
    const image = await pushImage(bed.sim, 'octocat/app');
    const repository = bed.sim.state.getRepository('octocat/app');
    if (repository === undefined) throw new Error('no repository');
    for (let i = 0; i < 150; i++)
      bed.sim.state.putManifest(
        repository,
        { ...image.record, references: image.record.references },
        `t${String(i).padStart(3, '0')}`,
      );
    const first = await bed.call('GET', '/v2/octocat/app/tags/list', { pat });
    expect(first.json<{ tags: string[] }>().tags).toHaveLength(100);
    expect(first.header('link')).toBe('</v2/octocat/app/tags/list?n=100&last=t099>; rel="next"');
    const all = await bed.call('GET', '/v2/octocat/app/tags/list?n=10000', { pat });
    expect(all.json<{ tags: string[] }>().tags).toHaveLength(150);
    expect(all.header('link')).toBeUndefined();
  });
});

describe('ghcr profile: request budget', () => {
  it('answers 429 TOOMANYREQUESTS with a Go duration in the message once the per-minute budget is spent', async () => {
    const bed = createTestBed({ registryRequestsPerMinute: 3 });
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages'] });
    for (let i = 0; i < 3; i++) expect((await bed.call('GET', '/v2/', { pat })).status).toBe(200);
    const limited = await bed.call('GET', '/v2/', { pat });
    expect(limited.status).toBe(429);
    expect(limited.header('retry-after')).toBeUndefined();
    expect(limited.json()).toEqual({
      errors: [{ code: 'TOOMANYREQUESTS', message: 'toomanyrequests: retry-after: 20s, allowed: 3/minute' }],
    });
    const message = limited.json<{ errors: { message: string }[] }>().errors[0]?.message ?? '';
    expect(parseRetryAfterInMessage(message)).toBe(20_000);
    await bed.clock.advance(19_999);
    expect((await bed.call('GET', '/v2/', { pat })).status).toBe(429);
    await bed.clock.advance(20_000);
    expect((await bed.call('GET', '/v2/', { pat })).status).toBe(200);
    const token = await bed.call('GET', '/token?scope=repository:a/b:pull');
    expect(token.status).toBe(429);
  });

  it('limits upload POSTs on their own budget (GHCR reports 2000/minute), on the simulation clock', async () => {
    const bed = createTestBed({ uploadStartsPerMinute: 20 });
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    for (let i = 0; i < 20; i++) {
      const started = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat });
      if (started.status !== 202) throw new Error(`POST ${i} answered ${started.status}`);
    }
    const limited = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat });
    expect(limited.status).toBe(429);
    expect(limited.json()).toEqual({
      errors: [{ code: 'TOOMANYREQUESTS', message: 'TOOMANYREQUESTS: retry-after: 3s, allowed: 20/minute' }],
    });
    // Other requests are not part of this budget.
    expect((await bed.call('GET', '/v2/', { pat })).status).toBe(200);
    await bed.clock.advance(2_999);
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat })).status).toBe(429);
    await bed.clock.advance(3_000);
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat })).status).toBe(202);
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', { pat })).status).toBe(429);
  });

  it('gives sub-millisecond waits at GHCR-like budgets', async () => {
    const limiter = createRegistryRateLimiter(44_000, () => 0);
    for (let i = 0; i < 44_000; i++) expect(limiter.take()).toBeUndefined();
    const limited = limiter.take();
    expect(limited?.status).toBe(429);
    expect(await limited?.json()).toEqual({
      errors: [
        {
          code: 'TOOMANYREQUESTS',
          message: 'toomanyrequests: retry-after: 1.363636ms, allowed: 44000/minute',
        },
      ],
    });
  });

  it('formats Go durations', () => {
    expect(formatGoDuration(880_092)).toBe('880.092µs');
    expect(formatGoDuration(10_305_464)).toBe('10.305464ms');
    expect(formatGoDuration(62_500_000_000)).toBe('1m2.5s');
    expect(formatGoDuration(3_600_000_000_000)).toBe('1h0m0s');
    expect(formatGoDuration(500)).toBe('500ns');
    expect(formatGoDuration(0)).toBe('0s');
  });
});
