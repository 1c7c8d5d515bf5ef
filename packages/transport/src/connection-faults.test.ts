import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { TransportError } from '@ghcr/oci-types';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from './transport.js';

// Failures below HTTP, through the real undici Agent: the error says whether the registry was
// reached, and what to do about it.

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('connection faults', () => {
  it('a DNS failure: never answered, check the address and DNS; not "retry" advice', async () => {
    const agent = new Agent({
      connect: {
        lookup: (
          hostname: string,
          _options: object,
          callback: (error: NodeJS.ErrnoException | null, address: string, family: number) => void,
        ) => {
          callback(
            Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
            '',
            4,
          );
        },
      },
    });
    closers.push(() => agent.close());
    const transport = createTransport({ dispatcher: agent, retry: { maxRetries: 0 } });
    const error = await transport
      .send({ operation: 'test', method: 'GET', url: 'https://registry.invalid/v2/' })
      .catch((caught: unknown) => caught);
    expect(TransportError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: 'GHCR_CONNECTION_FAILED', connected: false, isRetryable: true });
    expect((error as Error).message).toMatch(
      /^GET "https:\/\/registry\.invalid\/v2\/": connection failed: .*ENOTFOUND.*; the host name did not resolve: check the registry address and your DNS$/,
    );
  });

  it('a TLS handshake reset: reached, then broke off; retry, check a proxy', async () => {
    // A server that accepts the TCP connection and resets it as soon as the ClientHello arrives.
    const server = createServer((socket: Socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(async () => {
      server.close();
      await once(server, 'close');
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const agent = new Agent();
    closers.push(() => agent.close());
    const transport = createTransport({ dispatcher: agent, retry: { maxRetries: 0 } });
    const error = await transport
      .send({ operation: 'test', method: 'GET', url: `https://127.0.0.1:${port}/v2/` })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GHCR_CONNECTION_FAILED', connected: true, isRetryable: true });
    expect((error as Error).message).toMatch(
      /ECONNRESET.*; the registry was reached but the connection broke off: retry; if it keeps happening, check a proxy or firewall in between$/,
    );
  });

  it('a refused connection: never answered, check that it runs and the port', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    server.close();
    await once(server, 'close');
    const agent = new Agent();
    closers.push(() => agent.close());
    const transport = createTransport({ dispatcher: agent, retry: { maxRetries: 0 } });
    const error = await transport
      .send({ operation: 'test', method: 'GET', url: `http://127.0.0.1:${port}/v2/` })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'GHCR_CONNECTION_FAILED', connected: false });
    expect((error as Error).message).toMatch(
      /ECONNREFUSED.*; the registry never answered: check that it is running and the address \(and port\) is right$/,
    );
  });
});
