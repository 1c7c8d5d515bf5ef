import { type LoopbackServer, startLoopbackServer } from '@ghcr/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from './transport.js';

// The real undici Agent against a loopback HTTP server: what reaches the wire.
describe('dispatch over undici', () => {
  const requests: string[] = [];
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer((incoming, response) => {
      requests.push(`${incoming.method} ${incoming.url}`);
      const found = !incoming.url?.includes('missing');
      const body = found ? '' : '{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}';
      // A HEAD response carries the length of the body a GET would get, as registries send it.
      response.writeHead(found ? 200 : 404, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      });
      response.end(incoming.method === 'HEAD' ? undefined : body);
    });
  });
  afterAll(() => server.close());

  it('keeps the connection open after HEAD requests, found or not', async () => {
    // Every request through undici: with the transport's own connections the GET below would take
    // one of those instead.
    const transport = createTransport({ retry: { maxRetries: 0 }, ownBlobConnections: false });
    try {
      for (let i = 0; i < 10; i++) {
        const path = i % 2 === 0 ? `/v2/o/n/blobs/sha256:${i}` : `/v2/o/n/blobs/missing-${i}`;
        const response = await transport.send({
          operation: 'blobs.exists',
          method: 'HEAD',
          url: `${server.origin}${path}`,
          acceptStatus: [404],
        });
        expect(response.status).toBe(i % 2 === 0 ? 200 : 404);
      }
      // A GET after the HEADs still reads its own response on the same connection.
      const after = await transport.send({
        operation: 'blobs.get',
        method: 'GET',
        url: `${server.origin}/v2/o/n/blobs/missing-get`,
        acceptStatus: [404],
      });
      expect(after.status).toBe(404);
    } finally {
      await transport.close();
    }
    expect(requests).toHaveLength(11);
    expect(requests.at(-1)).toBe('GET /v2/o/n/blobs/missing-get');
    // The first response may still be finishing when the second request goes out (a second
    // connection then opens); after that every request reuses one. Closing after each HEAD, as
    // undici does by default, opened one connection per request here (11).
    expect(server.connections()).toBeLessThanOrEqual(2);
  });
});
