import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type LoopbackServer, startLoopbackServer } from './loopback-server.js';

const BODY = Buffer.alloc(64 * 1024, 7);
const hash = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const open: (FaultProxy | LoopbackServer)[] = [];
afterEach(async () => {
  for (const each of open.splice(0)) await each.close();
});

async function upstream(): Promise<LoopbackServer> {
  const server = await startLoopbackServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => {
      response.writeHead(200, {
        'content-length': String(BODY.byteLength),
        'content-type': 'application/octet-stream',
      });
      response.end(BODY);
    });
  });
  open.push(server);
  return server;
}

async function get(url: string): Promise<{ status: number; body?: Buffer; error?: unknown }> {
  try {
    const response = await fetch(url, { redirect: 'manual' });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, body };
  } catch (error) {
    return { status: 0, error };
  }
}

describe('startFaultProxy', () => {
  it('is deterministic for a seed: the same requests meet the same faults', async () => {
    const server = await upstream();
    const kinds = ['status-5xx', 'status-429', 'corrupt'] as const;
    const faultsOf = async (seed: number): Promise<(string | undefined)[]> => {
      const proxy = await startFaultProxy({ target: server.origin, seed, rate: 0.5, kinds });
      open.push(proxy);
      for (let n = 0; n < 20; n++) await get(`${proxy.url}/v2/o/a/blobs/sha256:${n}`);
      return proxy.records.map((record) => record.fault);
    };
    const first = await faultsOf(42);
    expect(await faultsOf(42)).toEqual(first);
    expect(first.filter((fault) => fault !== undefined).length).toBeGreaterThan(0);
    expect(await faultsOf(43)).not.toEqual(first);
  });

  it('flips exactly one byte of a corrupted body, and cuts a truncated one short', async () => {
    const server = await upstream();
    const corrupt = await startFaultProxy({ target: server.origin, seed: 1, rate: 1, kinds: ['corrupt'] });
    open.push(corrupt);
    const flipped = await get(`${corrupt.url}/v2/o/a/blobs/sha256:x`);
    expect(flipped.body?.byteLength).toBe(BODY.byteLength);
    expect(hash(flipped.body ?? Buffer.alloc(0))).not.toBe(hash(BODY));
    const differing = [...(flipped.body ?? [])].filter((byte, index) => byte !== BODY[index]);
    expect(differing).toHaveLength(1);
    const truncate = await startFaultProxy({ target: server.origin, seed: 1, rate: 1, kinds: ['truncate'] });
    open.push(truncate);
    const cut = await get(`${truncate.url}/v2/o/a/blobs/sha256:x`);
    // fetch reports a body that ends before its Content-Length as an error.
    expect(cut.error).toBeDefined();
    expect(truncate.faults()).toBe(1);
  });

  it('answers an expired signed URL with 403 once, and serves the blob when the registry is asked again', async () => {
    const server = await upstream();
    const proxy = await startFaultProxy({
      target: server.origin,
      seed: 1,
      rate: 1,
      kinds: ['expired-redirect'],
    });
    open.push(proxy);
    const first = await fetch(`${proxy.url}/v2/o/a/blobs/sha256:x`, { redirect: 'manual' });
    await first.arrayBuffer();
    expect(first.status).toBe(307);
    const location = String(first.headers.get('location'));
    expect(new URL(location).origin).not.toBe(proxy.url);
    expect((await get(location)).status).toBe(403);
    const again = await fetch(`${proxy.url}/v2/o/a/blobs/sha256:x`, { redirect: 'manual' });
    await again.arrayBuffer();
    const fresh = await get(String(again.headers.get('location')));
    expect(fresh.status).toBe(200);
    expect(fresh.body).toEqual(BODY);
  });
});
