import { randomBytes } from 'node:crypto';
import { digestOf } from '@ghcr/oci-types';
import { Agent, interceptors, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pushImage } from '../scenarios/push.js';
import { createSimulation } from '../simulation.js';
import { type SimulationServer, startSimulationServer } from './server.js';

describe('startSimulationServer', () => {
  let server: SimulationServer;
  let agent: Agent;
  let pat: string;
  let auth: string;

  beforeEach(async () => {
    server = await startSimulationServer({ port: 0 });
    agent = new Agent();
    pat = server.simulation.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    auth = `Bearer ${Buffer.from(pat).toString('base64')}`;
  });
  afterEach(async () => {
    await agent.close();
    await server.close();
  });

  it('listens on an ephemeral loopback port, with the blob host on a second one and the API under /api', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.blobUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.blobUrl).not.toBe(server.url);
    expect(server.apiUrl).toBe(`${server.url}/api`);
    expect(server.simulation.options.registryUrl).toBe(server.url);
    server.simulation.createUser('octocat');
    const user = await request(`${server.apiUrl}/users/octocat`, {
      dispatcher: agent,
      headers: { authorization: `token ${pat}` },
    });
    expect(user.statusCode).toBe(200);
    expect(await user.body.json()).toMatchObject({ login: 'octocat', type: 'User' });
    expect(server.simulation.log.entries.at(-1)).toMatchObject({
      operation: 'api.users.get',
      path: '/api/users/octocat',
    });
  });

  it('pushes and pulls over real sockets; blob GET redirects to the blob host, which gets no Authorization', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const digest = digestOf(data);
    const started = await request(`${server.url}/v2/octocat/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: auth },
      dispatcher: agent,
    });
    await started.body.dump();
    expect(started.statusCode).toBe(202);
    const location = new URL(String(started.headers.location), server.url);
    const patched = await request(location, {
      method: 'PATCH',
      headers: { authorization: auth, 'content-range': `0-${data.byteLength - 1}` },
      body: data,
      dispatcher: agent,
    });
    await patched.body.dump();
    expect(patched.statusCode).toBe(202);
    location.searchParams.set('digest', digest);
    const put = await request(location, {
      method: 'PUT',
      headers: { authorization: auth },
      dispatcher: agent,
    });
    await put.body.dump();
    expect(put.statusCode).toBe(201);

    const head = await request(`${server.url}/v2/octocat/app/blobs/${digest}`, {
      method: 'HEAD',
      headers: { authorization: auth },
      dispatcher: agent,
    });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.byteLength));
    expect(Buffer.from(await head.body.arrayBuffer()).byteLength).toBe(0);

    const redirect = await request(`${server.url}/v2/octocat/app/blobs/${digest}`, {
      headers: { authorization: auth },
      dispatcher: agent,
    });
    await redirect.body.dump();
    expect(redirect.statusCode).toBe(307);
    expect(String(redirect.headers.location)).toMatch(
      new RegExp(`^${server.blobUrl}/ghcr1/blobs/${digest}\\?se=`),
    );

    const following = agent.compose(interceptors.redirect({ maxRedirections: 1 }));
    const pulled = await request(`${server.url}/v2/octocat/app/blobs/${digest}`, {
      headers: { authorization: auth },
      dispatcher: following,
    });
    expect(pulled.statusCode).toBe(200);
    expect(digestOf(Buffer.from(await pulled.body.arrayBuffer()))).toBe(digest);
    const hop = server.simulation.log.byOperation('blobhost.get').at(-1);
    expect(hop).toMatchObject({ status: 200, hadAuthorization: false, responseBytes: data.byteLength });
  });

  it('rewrites absolute Locations and challenges of a simulation on other origins to the server’s URLs', async () => {
    const simulation = createSimulation({ profile: 'distribution' });
    const other = await startSimulationServer({ simulation });
    try {
      expect(simulation.options.registryUrl).toBe('https://ghcr.io');
      const challenge = await request(`${other.url}/v2/`, { dispatcher: agent });
      await challenge.body.dump();
      expect(challenge.headers['www-authenticate']).toBe(
        `Bearer realm="${other.url}/token",service="ghcr.io"`,
      );
      const token = (await (
        await request(`${other.url}/token?scope=repository:octocat/app:pull,push`, {
          headers: {
            authorization: `Basic ${Buffer.from(`x:${simulation.createToken({ user: 'octocat', scopes: ['write:packages'] })}`).toString('base64')}`,
          },
          dispatcher: agent,
        })
      ).body.json()) as { token: string };
      const started = await request(`${other.url}/v2/octocat/app/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.token}` },
        dispatcher: agent,
      });
      await started.body.dump();
      expect(String(started.headers.location)).toMatch(
        new RegExp(`^${other.url}/v2/octocat/app/blobs/uploads/[^?]+\\?_state=`),
      );
      expect(other.blobUrl).toBe(other.url);
    } finally {
      await other.close();
    }
  });

  it('applies faults on the server too: a status, and a reset that drops the socket', async () => {
    await pushImage(server.simulation, 'octocat/app', { tag: 'latest' });
    server.simulation.faults.add({
      operation: 'manifest.get',
      nth: 1,
      action: { type: 'status', status: 503, retryAfter: 1 },
    });
    const failed = await request(`${server.url}/v2/octocat/app/manifests/latest`, {
      headers: { authorization: auth },
      dispatcher: agent,
    });
    await failed.body.dump();
    expect(failed.statusCode).toBe(503);
    expect(failed.headers['retry-after']).toBe('1');
    server.simulation.faults.add({ operation: 'manifest.get', action: { type: 'reset' } });
    await expect(
      request(`${server.url}/v2/octocat/app/manifests/latest`, {
        headers: { authorization: auth },
        dispatcher: agent,
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/UND_ERR_SOCKET|ECONNRESET/) });
  });

  it('answers refused uploads (401 unread body, 416 over 4 MiB) over a real socket and keeps serving', async () => {
    const single = new Agent({ connections: 1 });
    try {
      const unauthorised = await request(
        `${server.url}/v2/octocat/app/blobs/uploads/?digest=${digestOf('x')}`,
        {
          method: 'POST',
          body: Buffer.alloc(100_000),
          dispatcher: single,
        },
      );
      await unauthorised.body.dump();
      expect(unauthorised.statusCode).toBe(401);
      const started = await request(`${server.url}/v2/octocat/app/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: auth },
        dispatcher: single,
      });
      await started.body.dump();
      const big = await request(`${server.url}${started.headers.location}`, {
        method: 'PATCH',
        headers: { authorization: auth },
        body: Buffer.alloc(5 * 1024 * 1024),
        dispatcher: single,
      });
      expect(big.statusCode).toBe(416);
      expect(await big.body.json()).toMatchObject({
        errors: [
          { message: 'the request body is too large and exceeds the maximum permissible limit of 4.00MiB' },
        ],
      });
      const after = await request(`${server.url}/v2/`, {
        headers: { authorization: auth },
        dispatcher: single,
      });
      await after.body.dump();
      expect(after.statusCode).toBe(200);
    } finally {
      await single.close();
    }
  });

  it('answers 404 naming the request when no handler matches', async () => {
    const response = await request(`${server.url}/nothing/here`, { dispatcher: agent });
    expect(response.statusCode).toBe(404);
    expect(await response.body.text()).toContain(`GET ${server.url}/nothing/here`);
  });

  it('closes cleanly with a download in flight', async () => {
    const image = await pushImage(server.simulation, 'octocat/big', {
      layers: [randomBytes(8 * 1024 * 1024)],
    });
    const layer = image.layers[0]?.digest;
    const redirect = await request(`${server.url}/v2/octocat/big/blobs/${layer}`, {
      headers: { authorization: auth },
      dispatcher: agent,
    });
    await redirect.body.dump();
    const response = await request(String(redirect.headers.location), { dispatcher: agent });
    expect(response.statusCode).toBe(200);
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    await server.close();
    await expect(
      (async () => {
        for (;;) if ((await iterator.next()).done) return;
      })(),
    ).rejects.toBeDefined();
  });

  it('waits for backpressure without leaving listeners behind (no MaxListenersExceededWarning)', async () => {
    // 64 chunks of 64 KiB, stored as they arrive: each write exceeds the socket's high-water mark,
    // so every chunk of the download waits for 'drain'.
    const chunk = randomBytes(64 * 1024);
    const writer = server.simulation.state.store.createWriter();
    for (let i = 0; i < 64; i++) await writer.write(chunk);
    const all = Buffer.concat(Array.from({ length: 64 }, () => chunk));
    const digest = digestOf(all);
    expect((await writer.commit(digest)).ok).toBe(true);
    server.simulation.state.linkBlob(server.simulation.state.ensureRepository('octocat/big'), digest);
    const warnings = vi.spyOn(process, 'emitWarning');
    try {
      const redirect = await request(`${server.url}/v2/octocat/big/blobs/${digest}`, {
        headers: { authorization: auth },
        dispatcher: agent,
      });
      await redirect.body.dump();
      const response = await request(String(redirect.headers.location), { dispatcher: agent });
      expect(digestOf(Buffer.from(await response.body.arrayBuffer()))).toBe(digest);
      const leaks = warnings.mock.calls
        .map((call) => String(call[0]))
        .filter((text) => text.includes('MaxListenersExceeded'));
      expect(leaks).toEqual([]);
    } finally {
      warnings.mockRestore();
    }
  });
});
