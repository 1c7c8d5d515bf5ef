import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, TransportError } from '@ghcr/oci-types';
import { createRecordingClock } from '@ghcr/test-support';
import { Registry } from 'prom-client';
import { Agent, MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Authorizer } from './auth-middleware.js';
import { createTransport, transportDetails } from './transport.js';
import type { TransportAuthParts } from './transport-options.js';
import type { ResponseBody } from './types.js';

const ORIGIN = 'https://registry.test';

function recordingAuthorizer(seen: string[]): Authorizer {
  return {
    authorize: async (target) => {
      seen.push(target.registry);
      return 'Bearer t';
    },
    challenge: async () => undefined,
    authorizeApi: async () => undefined,
  };
}

describe('an authorizer factory', () => {
  it('gets the injected dispatcher and the metrics, and close() leaves that dispatcher to its owner', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const pool = agent.get(ORIGIN);
    pool.intercept({ path: '/v2/o/n/tags/list', method: 'GET' }).reply(200, '{}').times(2);
    const parts: TransportAuthParts[] = [];
    const authorized: string[] = [];
    const transport = createTransport({
      dispatcher: agent,
      clock: createRecordingClock(),
      metrics: { registry: new Registry() },
      authorizer: (given) => {
        parts.push(given);
        return recordingAuthorizer(authorized);
      },
    });
    const request = {
      operation: 'tags.list',
      method: 'GET',
      url: `${ORIGIN}/v2/o/n/tags/list`,
      auth: { kind: 'registry', repository: 'o/n', actions: ['pull'] },
    } as const;
    await (await transport.send(request)).body.dump();
    expect(parts).toHaveLength(1);
    expect(parts[0]?.dispatcher).toBe(agent);
    expect(parts[0]?.metrics).toBeDefined();
    expect(parts[0]?.metrics).toBe(transportDetails(transport).metrics);
    expect(authorized).toHaveLength(1);
    await transport.close();
    // The injected dispatcher is still open: the second interception is served.
    await (await transport.send(request)).body.dump();
    expect(authorized).toHaveLength(2);
    await agent.close();
  });

  it('without a dispatcher, gets the Agent the transport owns, made when first read, which close() closes', async () => {
    let given: TransportAuthParts | undefined;
    const transport = createTransport({
      clock: createRecordingClock(),
      retry: { maxRetries: 0 },
      authorizer: (parts) => {
        given = parts;
        expect(parts.metrics).toBeUndefined();
        return recordingAuthorizer([]);
      },
    });
    expect(given).toBeDefined();
    const agent = given?.dispatcher;
    expect(agent).toBeInstanceOf(Agent);
    // The same Agent at every read.
    expect(given?.dispatcher).toBe(agent);
    expect((agent as Agent).closed).toBe(false);
    await transport.close();
    expect((agent as Agent).closed).toBe(true);
    // Closed, the transport refuses a request before any socket.
    const error = await transport
      .send({ operation: 'test.get', method: 'GET', url: 'http://127.0.0.1:9/x' })
      .catch((e: unknown) => e);
    expect(TransportError.isInstance(error)).toBe(true);
  });

  it("gives the factory `send`: a token request on the transport's own connections, with its timeout", async () => {
    const server = createServer((request, response) => {
      const answer = JSON.stringify({ token: 't', asked: `${request.method} ${request.url}` });
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(answer.length),
      });
      response.end(answer);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    let send: TransportAuthParts['send'] | undefined;
    const transport = createTransport({
      clock: createRecordingClock(),
      authorizer: (parts) => {
        send = parts.send;
        return recordingAuthorizer([]);
      },
    });
    if (send === undefined) throw new Error('the authorizer factory was not called');
    try {
      const response = await send({
        url: `http://127.0.0.1:${port}/token?scope=repository:o/n:pull`,
        method: 'GET',
        headers: { accept: 'application/json' },
        timeoutMs: 5000,
      });
      expect(response.status).toBe(200);
      // Read on the transport's own connections: their bodies have eachView.
      expect(typeof (response.body as ResponseBody).eachView).toBe('function');
      const chunks: Uint8Array[] = [];
      for await (const chunk of response.body) chunks.push(chunk);
      expect(JSON.parse(Buffer.concat(chunks).toString())).toEqual({
        token: 't',
        asked: 'GET /token?scope=repository:o/n:pull',
      });
      // Refused by the port: a TransportError naming the request, never answered.
      const error = await send?.({
        url: 'http://127.0.0.1:9/token',
        method: 'GET',
        headers: {},
        timeoutMs: 5000,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(TransportError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ connected: false });
    } finally {
      await transport.close();
      server.close();
    }
  });

  it('sends a token request through the injected dispatcher when there is one', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get(ORIGIN)
      .intercept({ path: '/token', method: 'POST', body: 'grant_type=refresh_token' })
      .reply(200, '{"token":"from-mock"}');
    let send: TransportAuthParts['send'] | undefined;
    const transport = createTransport({
      clock: createRecordingClock(),
      dispatcher: agent,
      authorizer: (parts) => {
        send = parts.send;
        return recordingAuthorizer([]);
      },
    });
    if (send === undefined) throw new Error('the authorizer factory was not called');
    const response = await send({
      url: `${ORIGIN}/token`,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token',
      timeoutMs: 5000,
    });
    expect(response.status).toBe(200);
    expect(await (response.body as ResponseBody).text()).toBe('{"token":"from-mock"}');
    await transport.close();
    await agent.close();
  });

  it('sends HEAD, PUT and GET on its own connections, none through undici, with an authorizer factory', async () => {
    const server = createServer((request, response) => {
      response.writeHead(200, { 'content-length': '2' });
      response.end(request.method === 'HEAD' ? undefined : 'ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const transport = createTransport({
      clock: createRecordingClock(),
      retry: { maxRetries: 0 },
      authorizer: () => recordingAuthorizer([]),
    });
    try {
      for (const method of ['HEAD', 'PUT', 'GET']) {
        const response = await transport.send({
          operation: 'test.send',
          method,
          url: `http://127.0.0.1:${port}/x`,
          auth: { kind: 'registry', repository: 'o/n', actions: ['pull'] },
          ...(method === 'PUT' ? { body: Buffer.from('{}') } : {}),
        });
        // Bodies read on the transport's own connections have eachView; undici's have not.
        expect(typeof response.body.eachView).toBe('function');
        await response.body.dump();
      }
    } finally {
      await transport.close();
      server.close();
    }
  });
});

describe('transportDetails', () => {
  it('gives the pipeline, options, rate limiter and metrics of a transport createTransport made', () => {
    const transport = createTransport({ dispatcher: new MockAgent(), userAgent: 'probe' });
    const details = transportDetails(transport);
    expect(details.pipeline[0]).toBe('tracing');
    expect(details.options.userAgent).toBe('probe');
    expect(details.options.connections).toBe(16);
    expect(details.rateLimiter.info('registry.test')).toBeUndefined();
    expect(details.metrics).toBeUndefined();
  });

  it('refuses a wrapper or a transport of your own with a ConfigError that says what to pass', () => {
    const transport = createTransport({ dispatcher: new MockAgent() });
    const wrapper = { ...transport };
    expect(() => transportDetails(wrapper)).toThrow(ConfigError);
    expect(() => transportDetails(wrapper)).toThrow(/pass the transport createTransport returned/);
  });
});
