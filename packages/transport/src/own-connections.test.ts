import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { GhcrError, GhcrErrorCode, InvalidInputError, ServerError, TransportError } from '@ghcr/oci-types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTransport, type Transport, type TransportOptions } from './transport.js';
import type {
  Middleware,
  RequestBody,
  ResponseBody,
  TransportRequest,
  ViewBody,
  ViewConsumer,
} from './types.js';

// The transport's own connections (every GET, no dispatcher) against a real HTTP server on the
// loopback: what they read, how they reuse connections, how they fail.

const BLOB = randomBytes(5 * 1024 * 1024);
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const BLOB_SHA256 = sha256(BLOB);

interface SeenRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  /** The server-side socket the request came on. */
  readonly socket: Socket;
}

interface TestServer {
  readonly http: Server;
  readonly origin: string;
  /** Requests received, in order. */
  readonly requests: SeenRequest[];
  /** Server-side sockets, in the order they were accepted. */
  readonly sockets: Socket[];
  /** Resolves with the next request the server receives (its handler has run). */
  nextRequest(): Promise<SeenRequest>;
}

type Respond = (request: IncomingMessage, response: ServerResponse, seen: SeenRequest) => void;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(respond: Respond): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const sockets: Socket[] = [];
  let waiters: ((seen: SeenRequest) => void)[] = [];
  const server = createServer((request, response) => {
    const seen: SeenRequest = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      socket: request.socket,
    };
    requests.push(seen);
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake(seen);
    respond(request, response, seen);
  });
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  const { port } = server.address() as AddressInfo;
  return {
    http: server,
    origin: `http://127.0.0.1:${port}`,
    requests,
    sockets,
    nextRequest: () => new Promise((resolve) => waiters.push(resolve)),
  };
}

/** A server that answers a connection's first request with `respond`, and closes it at the second. */
function serveOnePerConnection(respond: Respond): Promise<TestServer> {
  const served = new WeakMap<Socket, number>();
  return serve((request, response, seen) => {
    const count = (served.get(seen.socket) ?? 0) + 1;
    served.set(seen.socket, count);
    // A connection's second request meets a server that has just closed it.
    if (count > 1) {
      request.socket.destroy();
      return;
    }
    respond(request, response, seen);
  });
}

/**
 * A TCP server that answers each request head with `answer(socket, head)`, for responses
 * node:http would not write (1xx, a body delimited by the close). Returns its origin and sockets.
 */
async function serveRaw(
  answer: (socket: Socket, head: string) => void,
): Promise<{ readonly origin: string; readonly sockets: Socket[]; readonly heads: string[] }> {
  const sockets: Socket[] = [];
  const heads: string[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    // A reset by the client is an outcome tests look at, not an uncaught error.
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (data: Buffer) => {
      text += data.toString('latin1');
      for (let end = text.indexOf('\r\n\r\n'); end !== -1; end = text.indexOf('\r\n\r\n')) {
        const head = text.slice(0, end);
        text = text.slice(end + 4);
        heads.push(head);
        answer(socket, head);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, sockets, heads };
}

function transportFor(options: TransportOptions = {}): Transport {
  const transport = createTransport({ retry: { maxRetries: 0 }, ...options });
  cleanups.push(() => transport.close());
  return transport;
}

const blobGet = (url: string, extra: Partial<TransportRequest> = {}): TransportRequest => ({
  operation: 'blobs.get',
  method: 'GET',
  url,
  ...extra,
});

/** `body.eachView`, which every body read on the own connections has. */
function eachViewOf(body: ResponseBody): (onView: ViewConsumer) => Promise<void> {
  const eachView = body.eachView;
  if (eachView === undefined)
    throw new Error('the body has no eachView: it did not come on an own connection');
  return eachView.bind(body);
}

/** Reads `body` with eachView, copying each view; returns the copies. */
async function viewsOf(body: ResponseBody): Promise<Buffer[]> {
  const copies: Buffer[] = [];
  await eachViewOf(body)((view) => {
    copies.push(Buffer.from(view));
    return undefined;
  });
  return copies;
}

/** Reads `body` with eachView: a copy of each view, and the buffers the views were of. */
async function viewsAndBuffersOf(
  body: ResponseBody,
): Promise<{ readonly copies: Buffer[]; readonly buffers: Set<ArrayBufferLike> }> {
  const copies: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  await eachViewOf(body)((view) => {
    buffers.add(view.buffer);
    copies.push(Buffer.from(view));
    return undefined;
  });
  return { copies, buffers };
}

const sendBlob = (response: ServerResponse, blob: Uint8Array): void => {
  response.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(blob.length),
  });
  response.end(blob);
};

/** Resolves once `socket` (a server-side socket) closed, whether or not with an error. */
function closeOf(socket: Socket | undefined): Promise<void> {
  if (socket === undefined) return Promise.reject(new Error('the server accepted no connection'));
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** The rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * The next GET of the blob on `transport` comes as views of the connection's two buffers (none
 * is still held), on the server's one connection.
 */
async function expectNextBodyInViews(transport: Transport, server: TestServer): Promise<void> {
  const next = await transport.send(blobGet(`${server.origin}/blob`));
  const { copies, buffers } = await viewsAndBuffersOf(next.body);
  expect(sha256(Buffer.concat(copies))).toBe(BLOB_SHA256);
  expect(copies.length).toBeGreaterThanOrEqual(20);
  expect(buffers.size).toBeLessThanOrEqual(2);
  expect(server.sockets).toHaveLength(1);
}

describe('own blob connections', () => {
  it('reads a 5 MiB body with eachView: views of reused buffers, the bytes exactly', async () => {
    const server = await serve((_request, response) => sendBlob(response, BLOB));
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/v2/o/n/blobs/sha256:abc?x=1`));
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe(String(BLOB.length));
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect(response.url).toBe(`${server.origin}/v2/o/n/blobs/sha256:abc?x=1`);

    const hash = createHash('sha256');
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let notUint8Array = 0;
    await eachViewOf(response.body)((view) => {
      if (!(view instanceof Uint8Array)) notUint8Array += 1;
      buffers.add(view.buffer);
      hash.update(view);
      copies.push(Buffer.from(view));
      return undefined;
    });
    expect(notUint8Array).toBe(0);
    expect(hash.digest('hex')).toBe(BLOB_SHA256);
    expect(Buffer.concat(copies).equals(BLOB)).toBe(true);
    // 5 MiB come in 20 or more reads into the connection's reused 256 KiB buffers, not one new
    // buffer per read.
    expect(copies.length).toBeGreaterThanOrEqual(20);
    expect(buffers.size).toBeLessThanOrEqual(2);

    expect(server.requests).toHaveLength(1);
    const [seen] = server.requests;
    expect(seen?.method).toBe('GET');
    expect(seen?.url).toBe('/v2/o/n/blobs/sha256:abc?x=1');
    expect(seen?.headers.host).toBe(new URL(server.origin).host);
    expect(seen?.headers['user-agent']).toBe('ghcr-ts');
  });

  it('reads the same body as a stream, each chunk a buffer of its own', async () => {
    const server = await serve((_request, response) => sendBlob(response, BLOB));
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/blob`));
    expect(typeof response.body.eachView).toBe('function');
    const chunks: Uint8Array[] = [];
    // Kept without a copy: a stream's chunks must not be views of the reused buffer.
    for await (const chunk of response.body) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(BLOB.length);
    expect(sha256(all)).toBe(BLOB_SHA256);
    // The connection's buffers are all free again: the next body comes as views of them.
    await expectNextBodyInViews(transport, server);
  });

  it('frees what an ended body kept when it is destroyed unread, for the next body on the connection', async () => {
    const server = await serve((request, response) =>
      sendBlob(response, request.url === '/small' ? Buffer.from('small') : BLOB),
    );
    const transport = transportFor();
    // A body that came whole with its head, dropped unread: the connection stays in the pool.
    const dropped = await transport.send(blobGet(`${server.origin}/small`));
    dropped.body.destroy();
    await expectNextBodyInViews(transport, server);
  });

  it('carries sequential requests on one kept-alive connection', async () => {
    const server = await serve((request, response) =>
      sendBlob(response, Buffer.from(`body of ${request.url}`)),
    );
    const transport = transportFor();
    for (const path of ['/a', '/b', '/c']) {
      const response = await transport.send(blobGet(`${server.origin}${path}`));
      expect(Buffer.concat(await viewsOf(response.body)).toString()).toBe(`body of ${path}`);
    }
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/b', '/c']);
    expect(server.sockets).toHaveLength(1);
  });

  it('opens a new connection when the server closed the idle one', async () => {
    const server = await serve((request, response) => {
      sendBlob(response, Buffer.from(`body of ${request.url}`));
      // Closes the connection once the response is out, as a server's keep-alive timeout would.
      response.on('finish', () => request.socket.destroy());
    });
    const transport = transportFor();
    const first = await transport.send(blobGet(`${server.origin}/a`));
    expect(await first.body.text()).toBe('body of /a');
    const firstSocket = server.sockets[0];
    await closeOf(firstSocket);
    const second = await transport.send(blobGet(`${server.origin}/b`));
    expect(await second.body.text()).toBe('body of /b');
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/b']);
    expect(server.sockets).toHaveLength(2);
  });

  it('sends a request again, once, on a new connection when a kept-alive one was closed as it went out', async () => {
    const server = await serveOnePerConnection((request, response) =>
      sendBlob(response, Buffer.from(`body of ${request.url}`)),
    );
    const transport = transportFor();
    const first = await transport.send(blobGet(`${server.origin}/a`));
    expect(await first.body.text()).toBe('body of /a');
    const second = await transport.send(blobGet(`${server.origin}/b`));
    expect(await second.body.text()).toBe('body of /b');
    // /b went out on the kept-alive connection, was dropped, and went out again on a new one.
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/b', '/b']);
    expect(server.sockets).toHaveLength(2);
    expect(server.requests[1]?.socket).toBe(server.sockets[0]);
    expect(server.requests[2]?.socket).toBe(server.sockets[1]);
  });

  it('sends it again only once: a new connection dropped too fails the request', async () => {
    const server = await serve((request, response) => {
      if (server.requests.length > 1) {
        request.socket.destroy();
        return;
      }
      sendBlob(response, Buffer.from('first'));
    });
    const transport = transportFor();
    expect(await (await transport.send(blobGet(`${server.origin}/a`))).body.text()).toBe('first');
    const error = await rejectionOf(transport.send(blobGet(`${server.origin}/b`)));
    expect(TransportError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.CONNECTION_FAILED, connected: true });
    expect(error.message).toMatch(/^GET "http:\/\/127\.0\.0\.1:\d+\/b": connection failed: /);
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/b', '/b']);
    expect(server.sockets).toHaveLength(2);
  });

  it('reads a chunked body, and keeps the connection for the next request', async () => {
    const parts = ['first part, ', 'x'.repeat(100_000), ', last part'];
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      for (const part of parts) response.write(part);
      response.end();
    });
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/chunked`));
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.headers['content-length']).toBeUndefined();
    expect(Buffer.concat(await viewsOf(response.body)).toString()).toBe(parts.join(''));
    const again = await transport.send(blobGet(`${server.origin}/chunked`));
    expect(await again.body.text()).toBe(parts.join(''));
    expect(server.sockets).toHaveLength(1);
  });

  it('follows a redirect on the same connection, and the final body has eachView', async () => {
    const server = await serve((request, response) => {
      if (request.url === '/v2/o/n/blobs/sha256:abc') {
        response.writeHead(307, { location: '/signed/abc?sig=1', 'content-length': '9' });
        response.end('redirect!');
        return;
      }
      sendBlob(response, Buffer.from('the blob'));
    });
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/v2/o/n/blobs/sha256:abc`));
    expect(response.status).toBe(200);
    // The URL that answered, its signature redacted.
    expect(response.url).toBe(`${server.origin}/signed/abc?sig=REDACTED`);
    expect(Buffer.concat(await viewsOf(response.body)).toString()).toBe('the blob');
    expect(server.requests.map((seen) => seen.url)).toEqual([
      '/v2/o/n/blobs/sha256:abc',
      '/signed/abc?sig=1',
    ]);
    expect(server.sockets).toHaveLength(1);
  });

  it('answers an accepted 404 with its body', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    });
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/missing`, { acceptStatus: [404] }));
    expect(response.status).toBe(404);
    expect(typeof response.body.eachView).toBe('function');
    expect(await response.body.text()).toBe('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
  });

  it('turns a 500 that is not accepted into a ServerError', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"errors":[{"code":"UNKNOWN","message":"storage backend down"}]}');
    });
    const transport = transportFor();
    const error = await rejectionOf(transport.send(blobGet(`${server.origin}/v2/o/n/blobs/sha256:abc`)));
    expect(GhcrError.isInstance(error)).toBe(true);
    expect(ServerError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.SERVER_ERROR, http: { method: 'GET', status: 500 } });
    expect(error.message).toMatch(
      /^GET "http:\/\/127\.0\.0\.1:\d+\/v2\/o\/n\/blobs\/sha256:abc": status 500: /,
    );
    expect(error.message).toContain('storage backend down');
    expect(server.requests).toHaveLength(1);
  });

  it('fails the body, without hanging, when the server closes mid-body', async () => {
    const declared = 1024 * 1024;
    const server = await serve((request, response) => {
      response.writeHead(200, { 'content-length': String(declared) });
      response.write(BLOB.subarray(0, declared / 2), () => request.socket.destroy());
    });
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/cut`));
    let received = 0;
    const error = await rejectionOf(
      eachViewOf(response.body)((view) => {
        received += view.length;
        return undefined;
      }),
    );
    expect(error.message).toMatch(
      /^GET "http:\/\/127\.0\.0\.1:\d+\/cut": the server closed the connection after 524288 of 1048576 bytes of the body$/,
    );
    expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(received).toBe(declared / 2);

    // Read as a stream, the iteration throws the same.
    const streamed = await transport.send(blobGet(`${server.origin}/cut`));
    let streamedBytes = 0;
    const streamError = await rejectionOf(
      (async () => {
        for await (const chunk of streamed.body) streamedBytes += chunk.length;
      })(),
    );
    expect(streamError.message).toMatch(/the server closed the connection after 524288 of 1048576 bytes/);
    expect(streamedBytes).toBe(declared / 2);
  });

  it('waits for the promise an eachView consumer returns, and still gets every byte in order', async () => {
    const server = await serve((_request, response) => sendBlob(response, BLOB));
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/slow`));
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let pending = false;
    let overlapped = 0;
    let changedWhilePending = 0;
    await eachViewOf(response.body)((view) => {
      if (pending) overlapped += 1;
      pending = true;
      buffers.add(view.buffer);
      const copy = Buffer.from(view);
      copies.push(copy);
      // Settles a few turns of the event loop later: the connection must not hand the next
      // piece before, nor read into this view's buffer (it stays valid until then).
      return new Promise<void>((resolve) => {
        setImmediate(() =>
          setImmediate(() => {
            if (!copy.equals(view)) changedWhilePending += 1;
            pending = false;
            resolve();
          }),
        );
      });
    });
    expect(overlapped).toBe(0);
    expect(changedWhilePending).toBe(0);
    expect(copies.length).toBeGreaterThan(1);
    // The socket stopped reading while a promise was pending: had it read on, what came in the
    // meantime would have been kept as copies, each a buffer of its own.
    expect(buffers.size).toBeLessThanOrEqual(2);
    expect(Buffer.concat(copies).equals(BLOB)).toBe(true);
  });

  it('keeps the last view valid while its promise is pending, even as the connection carries the next request', async () => {
    const first = BLOB.subarray(0, 1024 * 1024);
    const second = Buffer.alloc(1024 * 1024, 0xee);
    const server = await serve((request, response) =>
      sendBlob(response, request.url === '/a' ? first : second),
    );
    const transport = transportFor({ connections: 1 });
    const a = await transport.send(blobGet(`${server.origin}/a`));
    let received = 0;
    let last: { view: Uint8Array; copy: Buffer } | undefined;
    let settleLast: () => void = () => {};
    let lastArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      lastArrived = resolve;
    });
    const readA = eachViewOf(a.body)((view) => {
      received += view.length;
      if (received < first.length) return undefined;
      last = { view, copy: Buffer.from(view) };
      lastArrived();
      return new Promise<void>((resolve) => {
        settleLast = resolve;
      });
    });
    await arrived;
    // The response ended: its connection carries the next request while the last view is held.
    const b = await transport.send(blobGet(`${server.origin}/b`));
    expect(Buffer.concat(await viewsOf(b.body)).equals(second)).toBe(true);
    expect(server.sockets).toHaveLength(1);
    const held = last as { view: Uint8Array; copy: Buffer } | undefined;
    if (held === undefined) throw new Error('the last view never came');
    // Unchanged since it was handed over, and the end of the first body.
    expect(held.copy.equals(held.view)).toBe(true);
    expect(held.copy.equals(first.subarray(first.length - held.copy.length))).toBe(true);
    settleLast();
    await readA;
    expect(received).toBe(first.length);
  });

  it('rejects with GHCR_ABORTED when the signal aborts before the head', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const transport = transportFor();
    const controller = new AbortController();
    const received = server.nextRequest();
    const sent = transport.send(blobGet(`${server.origin}/hang`, { signal: controller.signal }));
    const seen = await received;
    controller.abort();
    const error = await rejectionOf(sent);
    expect(GhcrError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.ABORTED, isRetryable: false });
    expect(error.message).toMatch(/^GET "http:\/\/127\.0\.0\.1:\d+\/hang": aborted$/);
    // The connection is closed, not left to the server.
    await closeOf(seen.socket);
    expect(server.requests).toHaveLength(1);
  });

  it('rejects with GHCR_ABORTED, sending nothing, when the signal was aborted already', async () => {
    const server = await serve((_request, response) => sendBlob(response, Buffer.from('x')));
    const transport = transportFor();
    const error = await rejectionOf(
      transport.send(blobGet(`${server.origin}/x`, { signal: AbortSignal.abort() })),
    );
    expect(error).toMatchObject({ code: GhcrErrorCode.ABORTED });
    expect(server.requests).toHaveLength(0);
    expect(server.sockets).toHaveLength(0);
  });

  it('fails the body when the signal aborts mid-body', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': String(BLOB.length) });
      response.write(BLOB.subarray(0, 1024));
    });
    const transport = transportFor();
    const controller = new AbortController();
    const response = await transport.send(blobGet(`${server.origin}/x`, { signal: controller.signal }));
    let views = 0;
    const error = await rejectionOf(
      eachViewOf(response.body)(() => {
        views += 1;
        controller.abort();
        return undefined;
      }),
    );
    expect(views).toBe(1);
    expect(error.name).toBe('AbortError');
  });

  it('times out waiting for the head after headersTimeoutMs (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = await serve(() => {
      // Never answers.
    });
    const transport = transportFor({ headersTimeoutMs: 50 });
    const received = server.nextRequest();
    let outcome: unknown;
    const sent = transport.send(blobGet(`${server.origin}/slow`)).then(
      () => {
        outcome = 'resolved';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    const seen = await received;
    await vi.advanceTimersByTimeAsync(49);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await sent;
    expect(TransportError.isInstance(outcome)).toBe(true);
    expect(outcome).toMatchObject({ code: GhcrErrorCode.TIMEOUT, connected: true });
    expect((outcome as Error).message).toMatch(
      /^GET "http:\/\/127\.0\.0\.1:\d+\/slow": timed out \(UND_ERR_HEADERS_TIMEOUT\); /,
    );
    expect(server.requests).toHaveLength(1);
    await closeOf(seen.socket);
  });

  it('refuses a header value holding CR LF, sending nothing', async () => {
    const server = await serve((_request, response) => sendBlob(response, Buffer.from('ok')));
    const transport = transportFor();
    const error = await rejectionOf(
      transport.send(
        blobGet(`${server.origin}/x`, { headers: { 'x-evil': 'a\r\nx-injected: secret-value' } }),
      ),
    );
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/^the request header "x-evil" has a name or value HTTP does not allow/);
    // The value may be a credential: never quoted.
    expect(error.message).not.toContain('secret-value');
    const badName = await rejectionOf(
      transport.send(blobGet(`${server.origin}/x`, { headers: { 'bad name': 'v' } })),
    );
    expect(badName.message).toMatch(/^the request header "bad name" has a name or value HTTP does not allow/);
    // Nothing reached the server; the next good request is the first it sees.
    expect(await (await transport.send(blobGet(`${server.origin}/good`))).body.text()).toBe('ok');
    expect(server.requests.map((seen) => seen.url)).toEqual(['/good']);
    expect(server.requests[0]?.headers['x-injected']).toBeUndefined();
  });

  it('goes through undici with ownBlobConnections: false: no eachView', async () => {
    const server = await serve((_request, response) => sendBlob(response, Buffer.from('via undici')));
    const transport = transportFor({ ownBlobConnections: false });
    const response = await transport.send(blobGet(`${server.origin}/x`));
    expect(response.body.eachView).toBeUndefined();
    expect('eachView' in response.body).toBe(false);
    expect(await response.body.text()).toBe('via undici');
  });

  it('sends every method on its own connections, one kept-alive connection for all', async () => {
    const server = await serve((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        response.writeHead(request.method === 'POST' ? 202 : 200, {
          'content-length': String(Buffer.byteLength(`${request.method} got "${body}"`)),
        });
        // A HEAD's head says the length a GET would have had; node:http sends no body for it.
        response.end(`${request.method} got "${body}"`);
      });
    });
    const transport = transportFor();
    const manifest = await transport.send({
      operation: 'manifests.get',
      method: 'GET',
      url: `${server.origin}/m`,
    });
    expect(typeof manifest.body.eachView).toBe('function');
    expect(await manifest.body.text()).toBe('GET got ""');
    const head = await transport.send({
      operation: 'manifests.head',
      method: 'HEAD',
      url: `${server.origin}/h`,
    });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String('HEAD got ""'.length));
    expect(await head.body.text()).toBe('');
    const put = await transport.send({
      operation: 'manifests.put',
      method: 'PUT',
      url: `${server.origin}/p`,
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: Buffer.from('{"a":1}'),
    });
    expect(await put.body.text()).toBe('PUT got "{"a":1}"');
    const post = await transport.send({
      operation: 'blobs.mount',
      method: 'POST',
      url: `${server.origin}/u?mount=x`,
    });
    expect(post.status).toBe(202);
    expect(await post.body.text()).toBe('POST got ""');
    const text = await transport.send({
      operation: 'x.patch',
      method: 'PATCH',
      url: `${server.origin}/t`,
      body: 'héllo',
    });
    expect(await text.body.text()).toBe('PATCH got "héllo"');
    const removed = await transport.send({
      operation: 'manifests.delete',
      method: 'DELETE',
      url: `${server.origin}/d`,
    });
    expect(await removed.body.text()).toBe('DELETE got ""');
    expect(server.requests.map((seen) => `${seen.method} ${seen.url}`)).toEqual([
      'GET /m',
      'HEAD /h',
      'PUT /p',
      'POST /u?mount=x',
      'PATCH /t',
      'DELETE /d',
    ]);
    // Each body framed by its length in bytes; a POST without one says 0; GET, HEAD and DELETE say nothing.
    expect(server.requests.map((seen) => seen.headers['content-length'])).toEqual([
      undefined,
      undefined,
      '7',
      '0',
      '6',
      undefined,
    ]);
    expect(server.requests[2]?.headers['content-type']).toBe('application/vnd.oci.image.manifest.v1+json');
    // All six on the one connection, the HEAD's included.
    expect(server.sockets).toHaveLength(1);
  });

  it('closes idle connections on transport.close()', async () => {
    const server = await serve((_request, response) => sendBlob(response, Buffer.from('x')));
    // Neither side would close the idle connection within the test: only close() does.
    server.http.keepAliveTimeout = 60_000;
    const transport = transportFor();
    const response = await transport.send(blobGet(`${server.origin}/x`));
    expect(await response.body.text()).toBe('x');
    const socket = server.sockets[0];
    expect(socket?.destroyed).toBe(false);
    const closed = closeOf(socket);
    await transport.close();
    await closed;
    expect(socket?.destroyed).toBe(true);
  });

  it('reads a body delimited by the close, and does not keep that connection', async () => {
    const server = await serveRaw((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\r\nuntil the close');
    });
    const transport = transportFor();
    for (const path of ['/a', '/b']) {
      const response = await transport.send(blobGet(`${server.origin}${path}`));
      expect(Buffer.concat(await viewsOf(response.body)).toString()).toBe('until the close');
    }
    expect(server.heads.map((head) => head.split('\r\n')[0])).toEqual(['GET /a HTTP/1.1', 'GET /b HTTP/1.1']);
    expect(server.sockets).toHaveLength(2);
  });

  it('skips a 100 Continue, and closes a connection the response said to close', async () => {
    const server = await serveRaw((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      socket.write('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello');
    });
    const transport = transportFor();
    for (const path of ['/a', '/b']) {
      const response = await transport.send(blobGet(`${server.origin}${path}`));
      expect(response.status).toBe(200);
      expect(response.headers.connection).toBe('close');
      expect(await response.body.text()).toBe('hello');
    }
    // The first connection was closed by the client: the second request came on a new one.
    expect(server.sockets).toHaveLength(2);
    const first = server.sockets[0];
    await closeOf(first);
    // The request head: the request line, host first, the transport's user-agent, nothing else.
    expect(server.heads[0]?.split('\r\n')).toEqual([
      'GET /a HTTP/1.1',
      `host: ${new URL(server.origin).host}`,
      'user-agent: ghcr-ts',
    ]);
  });

  it('refuses a response that is not HTTP/1.1 with a ProtocolError naming the request', async () => {
    const server = await serveRaw((socket) => {
      socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n');
    });
    const transport = transportFor();
    const error = await rejectionOf(transport.send(blobGet(`${server.origin}/v2/`)));
    expect(error).toMatchObject({ code: GhcrErrorCode.UNEXPECTED_RESPONSE });
    expect(error.message).toMatch(
      /^GET "http:\/\/127\.0\.0\.1:\d+\/v2\/": the server's response is not valid HTTP\/1\.1: the status line is not HTTP\/1\.x: "SSH-2\.0-OpenSSH_9\.6"/,
    );
  });

  it('queues requests beyond `connections` and carries them all on the one connection', async () => {
    const server = await serve((request, response) =>
      sendBlob(response, Buffer.from(`body of ${request.url}`)),
    );
    const transport = transportFor({ connections: 1 });
    const paths = ['/a', '/b', '/c', '/d'];
    const texts = await Promise.all(
      paths.map(async (path) => (await transport.send(blobGet(`${server.origin}${path}`))).body.text()),
    );
    expect(texts).toEqual(paths.map((path) => `body of ${path}`));
    expect(server.sockets).toHaveLength(1);
    expect(server.requests.map((seen) => seen.url).sort()).toEqual(paths);
  });

  it('aborts a request waiting for a connection, and the pool goes on', async () => {
    const server = await serve((request, response) =>
      sendBlob(response, request.url === '/a' ? BLOB : Buffer.from(`body of ${request.url}`)),
    );
    // Tells when a request was handed to the connections (it is queued by then, when none is free).
    const handed = new Map<string, () => void>();
    const handedOver = (path: string): Promise<void> =>
      new Promise((resolve) => handed.set(`${server.origin}${path}`, resolve));
    const probe: Middleware = (next) => (request, context) => {
      const sending = next(request, context);
      handed.get(request.url)?.();
      return sending;
    };
    const transport = transportFor({
      connections: 1,
      middleware: [{ name: 'handed-over', middleware: probe, after: 'redirect' }],
    });
    // Holds the one connection: 5 MiB of body, not read yet.
    const holding = await transport.send(blobGet(`${server.origin}/a`));
    const controller = new AbortController();
    const queued = Promise.all([handedOver('/b'), handedOver('/c')]);
    const waiting = transport.send(blobGet(`${server.origin}/b`, { signal: controller.signal }));
    const after = transport.send(blobGet(`${server.origin}/c`));
    await queued;
    controller.abort();
    const error = await rejectionOf(waiting);
    expect(error).toMatchObject({ code: GhcrErrorCode.ABORTED });
    expect(error.message).toMatch(/^GET "http:\/\/127\.0\.0\.1:\d+\/b": aborted$/);
    expect(sha256(Buffer.from(await holding.body.arrayBuffer()))).toBe(BLOB_SHA256);
    // The aborted request left the queue: the connection goes to the next one waiting.
    expect(await (await after).body.text()).toBe('body of /c');
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/c']);
    expect(server.sockets).toHaveLength(1);
  });

  it('closes the connection of a body dropped before its end, and opens another', async () => {
    const server = await serve((_request, response) => sendBlob(response, BLOB));
    const transport = transportFor({ connections: 1 });
    const dropped = await transport.send(blobGet(`${server.origin}/a`));
    dropped.body.destroy();
    const first = server.sockets[0];
    await closeOf(first);
    const next = await transport.send(blobGet(`${server.origin}/b`));
    expect(sha256(Buffer.concat(await viewsOf(next.body)))).toBe(BLOB_SHA256);
    expect(server.sockets).toHaveLength(2);
  });

  it('fails with GHCR_CONNECTION_FAILED, never answered, on a refused connection', async () => {
    const probe = createNetServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    probe.close();
    await once(probe, 'close');
    const transport = transportFor();
    const error = await rejectionOf(transport.send(blobGet(`http://127.0.0.1:${port}/v2/`)));
    expect(TransportError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.CONNECTION_FAILED, connected: false });
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('fails the body after bodyTimeoutMs without a byte (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '4096' });
      response.write(Buffer.alloc(1024, 1));
    });
    const transport = transportFor({ bodyTimeoutMs: 100 });
    const response = await transport.send(blobGet(`${server.origin}/stalls`));
    let received = 0;
    let arrived: () => void = () => {};
    const allSent = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let outcome: unknown;
    const read = eachViewOf(response.body)((view) => {
      received += view.length;
      if (received === 1024) arrived();
      return undefined;
    }).then(
      () => {
        outcome = 'resolved';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await allSent;
    await vi.advanceTimersByTimeAsync(99);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await read;
    expect(outcome).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    expect((outcome as Error).message).toMatch(
      /^GET "http:\/\/127\.0\.0\.1:\d+\/stalls": no byte of the body for 100 ms \(1024 of 4096 bytes arrived\)$/,
    );
  });

  it.each([
    {
      when: 'a second less than the Keep-Alive timeout the server sent',
      // The server would close it after 3 s idle; it never does here.
      head: 'HTTP/1.1 200 OK\r\nkeep-alive: timeout=3\r\ncontent-length: 2\r\n\r\nok',
      keepAliveTimeoutMs: 30_000,
      idleMs: 2000,
    },
    {
      when: 'keepAliveTimeoutMs when the server gives no hint',
      head: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      keepAliveTimeoutMs: 500,
      idleMs: 500,
    },
  ])('closes a connection idle for $when (fake timers)', async ({ head, keepAliveTimeoutMs, idleMs }) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = await serveRaw((socket) => {
      socket.write(head);
    });
    const transport = transportFor({ keepAliveTimeoutMs });
    const get = async (): Promise<string> =>
      (await transport.send(blobGet(`${server.origin}/x`))).body.text();
    expect(await get()).toBe('ok');
    await vi.advanceTimersByTimeAsync(idleMs - 1);
    expect(await get()).toBe('ok');
    expect(server.sockets).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(idleMs);
    // Closed `idleMs` after its last response: the next request opens a new connection.
    expect(await get()).toBe('ok');
    expect(server.sockets).toHaveLength(2);
    await closeOf(server.sockets[0]);
  });

  it('does not reuse a connection that carried bytes past the end of the response', async () => {
    const server = await serveRaw((socket) => {
      // A second response nobody asked for, in the same write.
      socket.write(
        'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' +
          'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nextra',
      );
    });
    const transport = transportFor();
    for (let n = 0; n < 2; n++) {
      expect(await (await transport.send(blobGet(`${server.origin}/x`))).body.text()).toBe('ok');
    }
    expect(server.sockets).toHaveLength(2);
    await closeOf(server.sockets[0]);
  });

  it('fails a request whose head timed out on a kept-alive connection, without sending it again (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = await serve((request, response) => {
      if (request.url === '/hang') return; // Never answers.
      sendBlob(response, Buffer.from('ok'));
    });
    const transport = transportFor({ headersTimeoutMs: 50 });
    expect(await (await transport.send(blobGet(`${server.origin}/a`))).body.text()).toBe('ok');
    const received = server.nextRequest();
    let outcome: unknown;
    const sent = transport.send(blobGet(`${server.origin}/hang`)).then(
      () => {
        outcome = 'resolved';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await received;
    const sentAgain = server.nextRequest().then(() => 'sent again');
    await vi.advanceTimersByTimeAsync(50);
    expect(await Promise.race([sent.then(() => 'settled'), sentAgain])).toBe('settled');
    expect(outcome).toMatchObject({ code: GhcrErrorCode.TIMEOUT });
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/hang']);
  });

  it('does not keep a connection the server keeps idle for a second or less', async () => {
    const server = await serveRaw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok');
    });
    const transport = transportFor();
    for (let n = 0; n < 2; n++) {
      expect(await (await transport.send(blobGet(`${server.origin}/x`))).body.text()).toBe('ok');
    }
    expect(server.sockets).toHaveLength(2);
    await closeOf(server.sockets[0]);
  });

  it('refuses a request after transport.close(), opening no connection', async () => {
    const server = await serve((_request, response) => sendBlob(response, Buffer.from('x')));
    const transport = transportFor();
    await transport.close();
    const error = await rejectionOf(transport.send(blobGet(`${server.origin}/x`)));
    expect(error.message).toMatch(/the transport was closed; create a new one/);
    expect(server.sockets).toHaveLength(0);
  });
});

/** An async iterable of `pieces`, recording how far it was read and whether it was closed early. */
function piecesOf(pieces: readonly Uint8Array[]): AsyncIterable<Uint8Array> & {
  readonly read: () => number;
  readonly returned: () => boolean;
} {
  let read = 0;
  let returned = false;
  return {
    read: () => read,
    returned: () => returned,
    [Symbol.asyncIterator]() {
      return {
        next: async () => {
          const piece = pieces[read];
          if (piece === undefined) return { done: true, value: undefined };
          read += 1;
          return { done: false, value: piece };
        },
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * A server that reads each request body whole and answers with its length and sha256;
 * `onRequest` sees each request first (to pause its socket, for one).
 */
function hashingServer(onRequest?: (request: IncomingMessage) => void): Promise<TestServer> {
  return serve((request, response) => {
    onRequest?.(request);
    const hash = createHash('sha256');
    let length = 0;
    request.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    request.on('end', () => {
      const answer = JSON.stringify({ length, sha256: hash.digest('hex') });
      response.writeHead(201, { 'content-length': String(answer.length) });
      response.end(answer);
    });
  });
}

const upload = (url: string, extra: Partial<TransportRequest>): TransportRequest => ({
  operation: 'blobs.upload',
  method: 'PUT',
  url,
  ...extra,
});

/**
 * Sends `body` (4 KiB said, failing with `failure` after its first KiB) to a server that reads it:
 * the request fails with that very error, and the connection is closed.
 */
async function expectBodysOwnFailure(body: RequestBody, failure: Error): Promise<void> {
  const server = await hashingServer();
  const transport = transportFor();
  const error = await rejectionOf(
    transport.send(upload(`${server.origin}/u`, { body, contentLength: 4096 })),
  );
  expect(error).toBe(failure);
  await closeOf(server.sockets[0]);
}

describe('own connections: request bodies', () => {
  const pieces = Array.from({ length: 20 }, (_, index) =>
    BLOB.subarray(index * 262_144, (index + 1) * 262_144),
  );

  it('streams an async iterable of the length given, and the server gets the bytes exactly', async () => {
    const server = await hashingServer();
    const transport = transportFor();
    const body = piecesOf(pieces);
    const response = await transport.send(upload(`${server.origin}/u`, { body, contentLength: BLOB.length }));
    expect(response.status).toBe(201);
    expect(await response.body.json()).toEqual({ length: BLOB.length, sha256: BLOB_SHA256 });
    expect(server.requests[0]?.headers['content-length']).toBe(String(BLOB.length));
    expect(server.requests[0]?.headers['transfer-encoding']).toBeUndefined();
    expect(body.read()).toBe(20);
    // The connection carries the next request.
    const next = await transport.send(upload(`${server.origin}/v`, { body: Buffer.from('abc') }));
    expect(await next.body.json()).toEqual({ length: 3, sha256: sha256(Buffer.from('abc')) });
    expect(server.sockets).toHaveLength(1);
  });

  it('sends a stream of unknown length in chunks, and a factory body as the stream it returns', async () => {
    const server = await hashingServer();
    const transport = transportFor();
    const chunked = await transport.send(upload(`${server.origin}/c`, { body: piecesOf(pieces) }));
    expect(await chunked.body.json()).toEqual({ length: BLOB.length, sha256: BLOB_SHA256 });
    expect(server.requests[0]?.headers['transfer-encoding']).toBe('chunked');
    expect(server.requests[0]?.headers['content-length']).toBeUndefined();
    const made = await transport.send(
      upload(`${server.origin}/f`, { body: () => Readable.from(pieces), contentLength: BLOB.length }),
    );
    expect(await made.body.json()).toEqual({ length: BLOB.length, sha256: BLOB_SHA256 });
    expect(server.sockets).toHaveLength(1);
  });

  it.each([
    { which: 'fewer', pieces: 2, given: 3 * 262_144 },
    { which: 'more', pieces: 3, given: 2 * 262_144 },
  ])(
    'fails a stream with $which bytes than its length, closing the connection and the stream',
    async ({ which, pieces: count, given }) => {
      const server = await hashingServer();
      const transport = transportFor();
      const body = piecesOf(pieces.slice(0, count));
      const error = await rejectionOf(
        transport.send(upload(`${server.origin}/u`, { body, contentLength: given })),
      );
      expect(TransportError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`the request body had ${which} bytes`);
      expect(error.message).toContain(`than its length said (${given})`);
      expect(error).toMatchObject({ isRetryable: false });
      await closeOf(server.sockets[0]);
      if (which === 'more') expect(body.returned()).toBe(true);
    },
  );

  it("fails with the stream's own error when the body fails, and closes the connection", async () => {
    const failure = new InvalidInputError('the layer file changed while it was read');
    await expectBodysOwnFailure(
      {
        async *[Symbol.asyncIterator]() {
          yield BLOB.subarray(0, 1024);
          throw failure;
        },
      },
      failure,
    );
  });

  it('takes a response that ends before the body was sent, stops the body, and does not keep the connection', async () => {
    // A 413 as soon as the head arrives: the server reads none of the body.
    const server = await serve((_request, response) => {
      response.writeHead(413, { 'content-length': '8', connection: 'keep-alive' });
      response.end('too big!');
    });
    const transport = transportFor();
    const large = Array.from({ length: 4096 }, () => BLOB.subarray(0, 65_536));
    const body = piecesOf(large);
    const response = await transport.send(
      upload(`${server.origin}/u`, { body, contentLength: 4096 * 65_536, acceptStatus: [413] }),
    );
    expect(response.status).toBe(413);
    expect(await response.body.text()).toBe('too big!');
    await closeOf(server.sockets[0]);
    expect(body.returned()).toBe(true);
    expect(body.read()).toBeLessThan(4096);
    const next = await transport.send(upload(`${server.origin}/v`, { body: 'x', acceptStatus: [413] }));
    expect(next.status).toBe(413);
    await next.body.dump();
    expect(server.sockets).toHaveLength(2);
  });

  it('sends a PUT of bytes again on a new connection when the kept-alive one was closed as it went out, but not a one-shot stream or a POST', async () => {
    const server = await serveOnePerConnection((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(201, { 'content-length': '0' });
        response.end();
      });
    });
    const transport = transportFor();
    const open = async (path: string): Promise<void> => {
      const response = await transport.send(upload(`${server.origin}${path}`, { body: 'warm' }));
      await response.body.dump();
    };
    await open('/a');
    const again = await transport.send(upload(`${server.origin}/b`, { body: Buffer.from('bytes') }));
    expect(again.status).toBe(201);
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/b', '/b']);
    await again.body.dump();
    // The next request goes out on the connection /b was sent again on, and meets its close.
    const stream = await rejectionOf(
      transport.send(
        upload(`${server.origin}/d`, { body: piecesOf([Buffer.from('once')]), contentLength: 4 }),
      ),
    );
    expect(stream).toMatchObject({ code: GhcrErrorCode.CONNECTION_FAILED });
    await open('/e');
    const post = await rejectionOf(
      transport.send({ operation: 'blobs.start', method: 'POST', url: `${server.origin}/f`, body: 'x' }),
    );
    expect(post).toMatchObject({ code: GhcrErrorCode.CONNECTION_FAILED });
    // /d (a one-shot stream) and /f (a POST) went out once each.
    expect(server.requests.map((seen) => seen.url)).toEqual(['/a', '/b', '/b', '/d', '/e', '/f']);
  });

  it('aborts an upload the server stopped reading, closing the stream', async () => {
    let paused: Socket | undefined;
    const server = await serve((request) => {
      request.socket.pause();
      paused = request.socket;
    });
    const transport = transportFor();
    const controller = new AbortController();
    const large = Array.from({ length: 4096 }, () => BLOB.subarray(0, 65_536));
    const body = piecesOf(large);
    const sent = transport.send(
      upload(`${server.origin}/u`, { body, contentLength: 4096 * 65_536, signal: controller.signal }),
    );
    await server.nextRequest();
    expect(paused).toBeDefined();
    controller.abort();
    const error = await rejectionOf(sent);
    expect(error).toMatchObject({ code: GhcrErrorCode.ABORTED });
    expect(body.returned()).toBe(true);
    expect(body.read()).toBeLessThan(4096);
  });

  it('fails an upload the server stopped taking after bodyTimeoutMs without progress (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const server = await serve((request) => {
      // The server reads the head, then nothing of the body.
      request.socket.pause();
    });
    const transport = transportFor({ bodyTimeoutMs: 1000 });
    const large = Array.from({ length: 4096 }, () => BLOB.subarray(0, 65_536));
    const body = piecesOf(large);
    let outcome: unknown;
    const sent = transport.send(upload(`${server.origin}/u`, { body, contentLength: 4096 * 65_536 })).then(
      () => {
        outcome = 'resolved';
      },
      (error: unknown) => {
        outcome = error;
      },
    );
    await server.nextRequest();
    // Let the socket fill (real I/O) while fake time goes on; the body stalls once the kernel's
    // buffers are full, and 1 s of fake time after that the request fails.
    for (let turn = 0; turn < 200 && outcome === undefined; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await vi.advanceTimersByTimeAsync(250);
    }
    await sent;
    expect(outcome).toMatchObject({ code: GhcrErrorCode.TIMEOUT });
    expect((outcome as Error).message).toMatch(
      /^PUT "http:\/\/127\.0\.0\.1:\d+\/u": timed out \(UND_ERR_BODY_TIMEOUT\)/,
    );
    expect(((outcome as Error).cause as Error).message).toMatch(
      /: the server took no byte of the request body for 1000 ms \(\d+ bytes sent\)$/,
    );
    expect(body.returned()).toBe(true);
    expect(body.read()).toBeLessThan(4096);
  });

  it('refuses a body length that is not a whole number of bytes, sending nothing', async () => {
    const server = await hashingServer();
    const transport = transportFor();
    const error = await rejectionOf(
      transport.send(upload(`${server.origin}/u`, { body: piecesOf(pieces), contentLength: 1.5 })),
    );
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/the body length 1\.5 is not a whole number of bytes/);
    expect(server.requests).toHaveLength(0);
  });
});

/**
 * A body handed out as views of one buffer, refilled with the next piece of `total` bytes (a
 * repeating pattern) once the consumer is done with the last view, and zeroed in between: a view
 * the writer let go of while the socket still held it would reach the server as zeros. Iterating
 * it fails the test.
 */
function oneBufferViews(
  total: number,
  pieceBytes: number,
): ViewBody & {
  /** Views handed out. */
  readonly views: () => number;
  /** Views the consumer held past its return (a promise it returned). */
  readonly held: () => number;
  /** Settles once a view was held. */
  readonly firstHeld: Promise<void>;
  /** Settles once the last view was handed out. */
  readonly handedOut: Promise<void>;
  /** The sha256 of the whole body. */
  readonly sha256: string;
} {
  const buffer = Buffer.alloc(pieceBytes);
  const pieceOf = (at: number): Buffer => {
    const length = Math.min(pieceBytes, total - at);
    const start = at % (BLOB.length - pieceBytes);
    return BLOB.subarray(start, start + length);
  };
  const hash = createHash('sha256');
  for (let at = 0; at < total; at += pieceBytes) hash.update(pieceOf(at));
  let views = 0;
  let held = 0;
  let onHeld = (): void => {};
  const firstHeld = new Promise<void>((resolve) => {
    onHeld = resolve;
  });
  let onHandedOut = (): void => {};
  const handedOut = new Promise<void>((resolve) => {
    onHandedOut = resolve;
  });
  return {
    views: () => views,
    held: () => held,
    firstHeld,
    handedOut,
    sha256: hash.digest('hex'),
    [Symbol.asyncIterator]() {
      throw new Error('the body was iterated, not read with eachView');
    },
    async eachView(onView) {
      for (let at = 0; at < total; at += pieceBytes) {
        const piece = pieceOf(at);
        buffer.set(piece);
        views += 1;
        const pending = onView(buffer.subarray(0, piece.length));
        if (pending !== undefined) {
          held += 1;
          onHeld();
          await pending;
        }
        buffer.fill(0);
      }
      onHandedOut();
    },
  };
}

describe('own connections: view bodies', () => {
  const MiB = 1024 * 1024;

  it('writes each view to the socket as it is, holding one the socket has not taken, and the server gets the bytes exactly', async () => {
    // The server reads nothing until a view was held (the kernel's buffers are full), then all;
    // were the buffers to take the whole body, it reads once the body was handed out, and the
    // count of held views below fails instead of the test hanging.
    let held: Promise<void> | undefined;
    const server = await hashingServer((request) => {
      request.socket.pause();
      void held?.then(() => request.socket.resume());
    });
    const transport = transportFor();
    const total = 64 * MiB;
    const body = oneBufferViews(total, 256 * 1024);
    held = Promise.race([body.firstHeld, body.handedOut]);
    const response = await transport.send(upload(`${server.origin}/u`, { body, contentLength: total }));
    expect(await response.body.json()).toEqual({ length: total, sha256: body.sha256 });
    expect(body.views()).toBe(total / (256 * 1024));
    expect(body.held()).toBeGreaterThan(0);
    // The connection carries the next request.
    const next = await transport.send(upload(`${server.origin}/v`, { body: Buffer.from('abc') }));
    expect(await next.body.json()).toEqual({ length: 3, sha256: sha256(Buffer.from('abc')) });
    expect(server.sockets).toHaveLength(1);
  });

  it('sends a view body of unknown length in chunks', async () => {
    const server = await hashingServer();
    const transport = transportFor();
    const body = oneBufferViews(3 * MiB + 17, 256 * 1024);
    const response = await transport.send(upload(`${server.origin}/c`, { body }));
    expect(await response.body.json()).toEqual({ length: 3 * MiB + 17, sha256: body.sha256 });
    expect(server.requests[0]?.headers['transfer-encoding']).toBe('chunked');
  });

  it.each([
    { which: 'fewer', total: 2 * 262_144, given: 3 * 262_144 },
    { which: 'more', total: 3 * 262_144, given: 2 * 262_144 },
  ])(
    'fails a view body with $which bytes than its length, closing the connection',
    async ({ which, total, given }) => {
      const server = await hashingServer();
      const transport = transportFor();
      const body = oneBufferViews(total, 262_144);
      const error = await rejectionOf(
        transport.send(upload(`${server.origin}/u`, { body, contentLength: given })),
      );
      expect(TransportError.isInstance(error)).toBe(true);
      expect(error.message).toContain(`the request body had ${which} bytes`);
      await closeOf(server.sockets[0]);
      // "More" stops at the view past the length: the body is not read to its end.
      if (which === 'more') expect(body.views()).toBe(3);
    },
  );

  it("fails with the body's own error, and closes the connection", async () => {
    const failure = new InvalidInputError('the source registry dropped the blob');
    const body: ViewBody = {
      [Symbol.asyncIterator]() {
        throw new Error('the body was iterated, not read with eachView');
      },
      async eachView(onView) {
        await onView(BLOB.subarray(0, 1024));
        throw failure;
      },
    };
    await expectBodysOwnFailure(body, failure);
  });

  it('stops a view body held by a server that stopped reading when the signal aborts', async () => {
    const server = await serve((request) => {
      request.socket.pause();
    });
    const transport = transportFor();
    const controller = new AbortController();
    const total = 256 * MiB;
    const body = oneBufferViews(total, 256 * 1024);
    const sent = transport.send(
      upload(`${server.origin}/u`, { body, contentLength: total, signal: controller.signal }),
    );
    await body.firstHeld;
    controller.abort();
    const error = await rejectionOf(sent);
    expect(error).toMatchObject({ code: GhcrErrorCode.ABORTED });
    expect(body.views()).toBeLessThan(total / (256 * 1024));
  });

  it('takes a response that ends before the view body was sent, and stops the body', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(413, { 'content-length': '8', connection: 'keep-alive' });
      response.end('too big!');
    });
    const transport = transportFor();
    const total = 256 * MiB;
    const body = oneBufferViews(total, 256 * 1024);
    const response = await transport.send(
      upload(`${server.origin}/u`, { body, contentLength: total, acceptStatus: [413] }),
    );
    expect(response.status).toBe(413);
    expect(await response.body.text()).toBe('too big!');
    await closeOf(server.sockets[0]);
    expect(body.views()).toBeLessThan(total / (256 * 1024));
  });

  it('goes through a dispatcher as the chunks its iterator yields', async () => {
    const server = await hashingServer();
    const transport = transportFor({ ownBlobConnections: false });
    const chunks = [BLOB.subarray(0, 1000), BLOB.subarray(1000, 5000)];
    const body: ViewBody = {
      async *[Symbol.asyncIterator]() {
        yield* chunks;
      },
      eachView: () => Promise.reject(new Error('a dispatcher does not read views')),
    };
    const response = await transport.send(upload(`${server.origin}/u`, { body, contentLength: 5000 }));
    expect(await response.body.json()).toEqual({ length: 5000, sha256: sha256(BLOB.subarray(0, 5000)) });
  });
});
