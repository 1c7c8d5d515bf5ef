import { digestOf } from '@ghcr/oci-types';
import { request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { pushImage } from '../scenarios/push.js';
import { createTestBed, type TestBed, uploadBlob } from '../testing/test-bed.js';
import { createFaultInjector } from './fault-injector.js';

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never became true');
}

describe('faults', () => {
  let bed: TestBed;
  let pat: string;
  let digest: `${string}:${string}`;
  const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

  beforeEach(async () => {
    bed = createTestBed({ profile: 'distribution' });
    pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const token = await bed.token(pat, 'repository:octocat/app:pull,push');
    digest = await uploadBlob(bed, 'octocat/app', data, { token });
    await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    bed.sim.log.clear();
  });

  const auth = async () => ({ token: await bed.token(pat, 'repository:octocat/app:pull,push') });

  it('answers a status with Retry-After on the nth matching request only', async () => {
    const credentials = await auth();
    bed.sim.faults.add({
      operation: 'manifest.get',
      nth: 2,
      action: { type: 'status', status: 503, retryAfter: 7 },
    });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 3; i++) {
      const response = await bed.call('GET', '/v2/octocat/app/manifests/latest', credentials);
      statuses.push(response.status);
      if (response.status === 503) {
        retryAfter = response.header('retry-after');
        expect(response.json()).toMatchObject({ errors: [{ code: 'UNKNOWN' }] });
      }
    }
    expect(statuses).toEqual([200, 503, 200]);
    expect(retryAfter).toBe('7');
  });

  it('answers a 429 without Retry-After when none is given, a given number of times', async () => {
    const credentials = await auth();
    bed.sim.faults.add({
      method: 'GET',
      path: /\/manifests\//,
      count: 2,
      action: { type: 'status', status: 429 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await bed.call('GET', '/v2/octocat/app/manifests/latest', credentials)).status);
    expect(statuses).toEqual([429, 429, 200]);
  });

  it('fails the token endpoint', async () => {
    bed.sim.faults.add({ operation: 'token', action: { type: 'status', status: 500 } });
    const response = await bed.call('GET', '/token?scope=repository:octocat/app:pull');
    expect(response.status).toBe(500);
  });

  it('resets the connection before the response, surfacing UND_ERR_SOCKET', async () => {
    const credentials = await auth();
    bed.sim.faults.add({ operation: 'blob.get', action: { type: 'reset' } });
    await expect(bed.call('GET', `/v2/octocat/app/blobs/${digest}`, credentials)).rejects.toMatchObject({
      code: 'UND_ERR_SOCKET',
    });
    const entry = bed.sim.log.byOperation('blob.get')[0];
    expect(entry?.status).toBe(0);
    expect(entry?.error).toContain('reset');
  });

  it('resets the connection after N response bytes', async () => {
    const credentials = await auth();
    bed.sim.faults.add({ operation: 'blob.get', action: { type: 'reset', afterBytes: 5 } });
    const response = await request(`${bed.sim.options.registryUrl}/v2/octocat/app/blobs/${digest}`, {
      headers: { authorization: `Bearer ${credentials.token}` },
      dispatcher: bed.dispatcher,
    });
    expect(response.statusCode).toBe(200);
    const received: Buffer[] = [];
    await expect(
      (async () => {
        for await (const chunk of response.body) received.push(chunk as Buffer);
      })(),
    ).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    // undici discards what it buffered when the socket errors, as with a real reset.
    expect('01234'.startsWith(Buffer.concat(received).toString())).toBe(true);
    expect(bed.sim.log.byOperation('blob.get')[0]?.responseBytes).toBe(5);
  });

  it('resets mid-upload after N request bytes; the bytes before it stay in the session', async () => {
    const credentials = await auth();
    const started = await bed.call('POST', '/v2/octocat/app/blobs/uploads/', credentials);
    const location = started.header('location') ?? '';
    bed.sim.faults.add({
      operation: 'blob.upload.patch',
      action: { type: 'reset', phase: 'request', afterBytes: 1000 },
    });
    await expect(
      bed.call('PATCH', location, { ...credentials, body: Buffer.alloc(4000, 1) }),
    ).rejects.toMatchObject({
      code: 'UND_ERR_SOCKET',
    });
    const status = await bed.call('GET', location, credentials);
    expect(status.status).toBe(204);
    expect(status.header('range')).toBe('0-999');
    expect(bed.sim.log.byOperation('blob.upload.patch')[0]?.requestBytes).toBe(1000);
  });

  it('truncates a response body (Content-Length dropped)', async () => {
    const credentials = await auth();
    bed.sim.faults.add({ operation: 'blob.get', action: { type: 'truncate', afterBytes: 10 } });
    const response = await bed.call('GET', `/v2/octocat/app/blobs/${digest}`, credentials);
    expect(response.status).toBe(200);
    expect(response.text).toBe('0123456789');
    expect(response.header('content-length')).toBeUndefined();
  });

  it('corrupts a response body so its digest no longer matches, keeping its length', async () => {
    const credentials = await auth();
    bed.sim.faults.add({ operation: 'blob.get', action: { type: 'corrupt', offset: 3, length: 2 } });
    const response = await bed.call('GET', `/v2/octocat/app/blobs/${digest}`, credentials);
    expect(response.body.byteLength).toBe(data.byteLength);
    expect(digestOf(response.body)).not.toBe(digest);
    const differing = [...response.body].map((byte, i) => (byte === data[i] ? -1 : i)).filter((i) => i >= 0);
    expect(differing).toEqual([3, 4]);
    expect(response.header('docker-content-digest')).toBe(digest);
  });

  it('delays a response on the simulation clock', async () => {
    const credentials = await auth();
    bed.sim.faults.add({ operation: 'manifest.get', action: { type: 'delay', ms: 5_000 } });
    let done = false;
    const pending = bed.call('GET', '/v2/octocat/app/manifests/latest', credentials).then((response) => {
      done = true;
      return response;
    });
    await until(() => bed.clock.pendingSleeps === 1);
    await bed.clock.advance(4_999);
    expect(done).toBe(false);
    await bed.clock.advance(1);
    expect((await pending).status).toBe(200);
  });

  it('matches on host, method and path, and can be removed or cleared', async () => {
    const credentials = await auth();
    const other = bed.sim.faults.add({ host: 'elsewhere.example', action: { type: 'status', status: 500 } });
    const post = bed.sim.faults.add({
      method: 'POST',
      path: '^/v2/',
      action: { type: 'status', status: 502 },
    });
    expect((await bed.call('GET', '/v2/', credentials)).status).toBe(200);
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', credentials)).status).toBe(502);
    expect(bed.sim.faults.rules.find((rule) => rule.id === post)).toMatchObject({ seen: 1, fired: 1 });
    expect(bed.sim.faults.rules.find((rule) => rule.id === other)).toMatchObject({ seen: 0, fired: 0 });
    expect(bed.sim.faults.remove(post)).toBe(true);
    expect(bed.sim.faults.remove(post)).toBe(false);
    expect((await bed.call('POST', '/v2/octocat/app/blobs/uploads/', credentials)).status).toBe(202);
    bed.sim.faults.clear();
    expect(bed.sim.faults.rules).toEqual([]);
  });

  it('fires probabilistic rules from a seeded generator, reproducibly', () => {
    const run = (seed: number): boolean[] => {
      const injector = createFaultInjector();
      injector.seed(seed);
      injector.add({ probability: 0.5, action: { type: 'status', status: 500 } });
      const target = { method: 'GET', url: new URL('https://ghcr.io/v2/'), operation: 'registry.base' };
      return Array.from({ length: 32 }, () => injector.evaluate(target).length > 0);
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
    expect(run(42).filter(Boolean).length).toBeGreaterThan(4);
    expect(run(42).filter(Boolean).length).toBeLessThan(28);
  });

  it('refuses invalid rules with ConfigError', () => {
    expect(() => bed.sim.faults.add({ nth: 0, action: { type: 'reset' } })).toThrow(/nth/);
    expect(() => bed.sim.faults.add({ probability: 2, action: { type: 'reset' } })).toThrow(/probability/);
    expect(() => bed.sim.faults.add({ path: '(', action: { type: 'reset' } })).toThrow(/regular expression/);
  });
});

describe('request log', () => {
  it('records operation, status, redacted headers, byte counts and fired faults', async () => {
    const bed = createTestBed();
    const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    const digest = await uploadBlob(bed, 'octocat/app', 'logged bytes', { pat });
    const fault = bed.sim.faults.add({ operation: 'registry.base', action: { type: 'status', status: 503 } });
    await bed.call('GET', '/v2/', { pat });
    const redirect = await bed.call('GET', `/v2/octocat/app/blobs/${digest}`, { pat });
    await bed.call('GET', redirect.header('location') ?? '');
    const entries = bed.sim.log.entries;
    expect(entries.map((entry) => [entry.operation, entry.status])).toEqual([
      ['blob.upload.start', 202],
      ['blob.upload.put', 201],
      ['registry.base', 503],
      ['blob.get', 307],
      ['blobhost.get', 200],
    ]);
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5]);
    const put = entries[1];
    expect(put?.requestBytes).toBe(12);
    expect(put?.requestHeaders.authorization).toBe('Bearer REDACTED');
    expect(put?.hadAuthorization).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(pat);
    expect(JSON.stringify(entries)).not.toContain(Buffer.from(pat).toString('base64'));
    expect(entries[2]?.faults).toEqual([fault]);
    const blobHost = entries[4];
    expect(blobHost?.host).toBe('pkg-containers.githubusercontent.com');
    expect(blobHost?.hadAuthorization).toBe(false);
    expect(blobHost?.responseBytes).toBe(12);
    expect(blobHost?.url).toContain('sig=REDACTED');
    expect(bed.sim.log.filter((entry) => entry.status >= 300)).toHaveLength(2);
    bed.sim.log.clear();
    expect(bed.sim.log.entries).toEqual([]);
    await bed.call('GET', '/v2/', { pat });
    expect(bed.sim.log.entries[0]?.seq).toBe(6);
  });
});
