import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createManualClock, SimulationMismatchError } from '@ghcr/oci-types';
import { Agent, type Dispatcher, fetch, interceptors, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCassette } from './cassette.js';
import { createRecordingDispatcher } from './recording-dispatcher.js';
import { createReplayDispatcher } from './replay-dispatcher.js';

const BIG = randomBytes(1536 * 1024); // 1.5 MiB: stored by digest
const SMALL_BINARY = Buffer.from([0, 1, 2, 255, 254, 0, 10]);

async function readAll(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A loopback server standing in for a registry. */
function handle(message: IncomingMessage, response: ServerResponse): void {
  const url = new URL(message.url ?? '/', 'http://localhost');
  void (async () => {
    const body = await readAll(message);
    if (url.pathname === '/v2/') {
      response.writeHead(200, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
      });
      response.end('{}');
    } else if (url.pathname === '/big') {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length });
      response.end(BIG);
    } else if (url.pathname === '/binary') {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.end(SMALL_BINARY);
    } else if (url.pathname === '/upload') {
      const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      response.writeHead(201, { 'docker-content-digest': digest, location: `/uploaded/${digest}` });
      response.end();
    } else if (url.pathname === '/missing') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    } else if (url.pathname === '/echo-method') {
      response.writeHead(200, { 'content-type': 'text/plain', 'x-method': message.method ?? '' });
      response.end(message.method === 'HEAD' ? undefined : `method ${message.method} body ${body.length}`);
    } else if (url.pathname === '/cut') {
      // Half a body, then the connection drops.
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 1000 });
      response.write(Buffer.alloc(500, 7), () => response.destroy());
    } else if (url.pathname === '/counter') {
      const count = Number(url.searchParams.get('n') ?? '0');
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`count=${count}`);
    } else {
      response.writeHead(500);
      response.end('unexpected');
    }
  })();
}

interface Result {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function call(
  dispatcher: Dispatcher,
  url: string,
  options: Parameters<typeof request>[1] = {},
): Promise<Result> {
  const response = await request(url, { ...options, dispatcher });
  const body = Buffer.from(await response.body.arrayBuffer());
  return { status: response.statusCode, headers: response.headers, body };
}

function comparable(result: Result): { status: number; headers: Record<string, unknown>; body: string } {
  const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...headers } = result.headers;
  return {
    status: result.status,
    headers: JSON.parse(JSON.stringify(headers)),
    body: result.body.toString('base64'),
  };
}

describe('record and replay', () => {
  let server: Server;
  let origin: string;
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-cassette-'));
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(directory, { recursive: true, force: true });
  });

  async function session(dispatcher: Dispatcher): Promise<Result[]> {
    const uploadBody = randomBytesSeeded(200 * 1024);
    return [
      await call(dispatcher, `${origin}/v2/`),
      await call(dispatcher, `${origin}/big`),
      await call(dispatcher, `${origin}/binary`),
      await call(dispatcher, `${origin}/upload`, {
        method: 'PUT',
        body: Readable.from([uploadBody.subarray(0, 100_000), uploadBody.subarray(100_000)]),
        headers: { 'content-type': 'application/octet-stream' },
      }),
      await call(dispatcher, `${origin}/upload`, { method: 'POST', body: 'small text body' }),
      await call(dispatcher, `${origin}/missing`),
      await call(dispatcher, `${origin}/echo-method`, { method: 'HEAD' }),
      await call(dispatcher, `${origin}/counter?n=1`),
      await call(dispatcher, `${origin}/counter?n=1`),
    ];
  }

  it('replays a recorded session offline with the same statuses, headers and bodies', async () => {
    const cassette = join(directory, 'session.json');
    const recorder = createRecordingDispatcher({
      dispatcher: new Agent(),
      cassette,
      clock: createManualClock(),
    });
    const recorded = await session(recorder);
    await recorder.close();

    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));

    const replayer = createReplayDispatcher({ cassette });
    const replayed = await session(replayer);
    expect(JSON.stringify(replayed.map(comparable), null, 1)).toBe(
      JSON.stringify(recorded.map(comparable), null, 1),
    );
    expect(replayed[1]?.body.equals(BIG)).toBe(true);
    expect(replayer.remaining).toHaveLength(0);

    const file = readCassette(cassette);
    expect(file.format).toBe('ghcr-cassette');
    expect(file.version).toBe(1);
    expect(file.recordedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(
      file.entries.map((entry) => `${entry.request.method} ${entry.request.url.slice(origin.length)}`),
    ).toEqual([
      'GET /v2/',
      'GET /big',
      'GET /binary',
      'PUT /upload',
      'POST /upload',
      'GET /missing',
      'HEAD /echo-method',
      'GET /counter?n=1',
      'GET /counter?n=1',
    ]);
    const big = file.entries[1]?.response?.body;
    const bigDigest = `sha256:${createHash('sha256').update(BIG).digest('hex')}`;
    expect(big).toEqual({
      size: BIG.length,
      digest: bigDigest,
      blob: `blobs/${bigDigest.replace(':', '-')}`,
    });
    const stored = await readFile(join(directory, 'blobs', bigDigest.replace(':', '-')));
    expect(stored.equals(BIG)).toBe(true);
    // Small bodies inline: text as UTF-8, binary as base64.
    expect(file.entries[0]?.response?.body).toMatchObject({ encoding: 'utf8', data: '{}' });
    expect(file.entries[2]?.response?.body).toMatchObject({
      encoding: 'base64',
      data: SMALL_BINARY.toString('base64'),
    });
    // The streamed 200 KiB upload body went to blobs/ too, by digest.
    const upload = file.entries[3]?.request.body;
    expect(upload).toMatchObject({ size: 200 * 1024 });
    expect(upload && 'blob' in upload).toBe(true);
    expect(file.entries[4]?.request.body).toMatchObject({ encoding: 'utf8', data: 'small text body' });
  });

  it('records through the controller API (a composed interceptor) and through fetch', async () => {
    const cassette = join(directory, 'composed.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    const composed = recorder.compose(interceptors.retry({ maxRetries: 0 }));
    const first = await call(composed, `${origin}/big`);
    expect(first.body.equals(BIG)).toBe(true);
    const fetched = await fetch(`${origin}/upload`, {
      method: 'POST',
      body: 'via fetch',
      dispatcher: recorder,
    });
    expect(fetched.status).toBe(201);
    await recorder.close();
    const file = readCassette(cassette);
    expect(file.entries).toHaveLength(2);
    expect(file.entries[0]?.response?.status).toBe(200);
    expect(file.entries[1]?.request.body).toMatchObject({ encoding: 'utf8', data: 'via fetch' });

    const replayer = createReplayDispatcher({ cassette }).compose(interceptors.retry({ maxRetries: 0 }));
    const again = await call(replayer, `${origin}/big`);
    expect(again.body.equals(BIG)).toBe(true);
  });

  it('fails an unmatched request with SimulationMismatchError naming the closest recorded request', async () => {
    const cassette = join(directory, 'mismatch.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    await call(recorder, `${origin}/v2/`);
    await call(recorder, `${origin}/counter?n=1`);
    await call(recorder, `${origin}/upload`, { method: 'PUT', body: 'first body' });
    await recorder.close();

    const replayer = createReplayDispatcher({ cassette });
    const error = await call(replayer, `${origin}/counter?n=2`).catch((caught: unknown) => caught);
    expect(SimulationMismatchError.isInstance(error)).toBe(true);
    const mismatch = error as SimulationMismatchError;
    expect(mismatch.closest).toBe(`GET ${origin}/counter?n=1`);
    expect(mismatch.message).toContain(`matches GET ${origin}/counter?n=2`);
    expect(mismatch.message).toContain(`closest recorded request: entry #1 GET ${origin}/counter?n=1`);

    // Same method and URL, different body: named with the recorded body's digest.
    const bodyError = await call(replayer, `${origin}/upload`, { method: 'PUT', body: 'other body' }).catch(
      (caught: unknown) => caught,
    );
    expect(SimulationMismatchError.isInstance(bodyError)).toBe(true);
    expect((bodyError as SimulationMismatchError).closest).toBe(`PUT ${origin}/upload`);
    expect((bodyError as Error).message).toContain('recorded body sha256:');
    expect((await call(replayer, `${origin}/upload`, { method: 'PUT', body: 'first body' })).status).toBe(
      201,
    );

    // An exchange is served once; a second identical request fails unless repeats are allowed.
    expect((await call(replayer, `${origin}/v2/`)).status).toBe(200);
    const twice = await call(replayer, `${origin}/v2/`).catch((caught: unknown) => caught);
    expect((twice as Error).message).toContain('already replayed');
    const repeating = createReplayDispatcher({ cassette, allowRepeats: true });
    expect((await call(repeating, `${origin}/v2/`)).status).toBe(200);
    expect((await call(repeating, `${origin}/v2/`)).status).toBe(200);
  });

  it('in ordered mode requires the recorded order and names the expected entry', async () => {
    const cassette = join(directory, 'ordered.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    await call(recorder, `${origin}/v2/`);
    await call(recorder, `${origin}/counter?n=1`);
    await recorder.close();

    const replayer = createReplayDispatcher({ cassette, mode: 'ordered' });
    const error = await call(replayer, `${origin}/counter?n=1`).catch((caught: unknown) => caught);
    expect(SimulationMismatchError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain(`ordered replay expected entry #0: GET ${origin}/v2/`);
    expect((await call(replayer, `${origin}/v2/`)).status).toBe(200);
    expect((await call(replayer, `${origin}/counter?n=1`)).body.toString()).toBe('count=1');
  });

  it('records a transport failure and replays it as an error', async () => {
    const cassette = join(directory, 'failure.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    const closedPort = `http://127.0.0.1:1`;
    const failure = await call(recorder, `${closedPort}/v2/`).catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(Error);
    await recorder.close();
    const file = readCassette(cassette);
    expect(file.entries[0]?.error).toMatchObject({ phase: 'request' });
    expect(file.entries[0]?.response).toBeUndefined();
    const replayed = await call(createReplayDispatcher({ cassette }), `${closedPort}/v2/`).catch(
      (caught: unknown) => caught,
    );
    expect((replayed as Error).message).toContain('replayed failure');
  });

  it('records a response that fails mid-body and replays the partial body, then the failure', async () => {
    const cassette = join(directory, 'cut.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    const consume = async (dispatcher: Dispatcher): Promise<{ received: number; error: unknown }> => {
      const response = await request(`${origin}/cut`, { dispatcher });
      let received = 0;
      try {
        for await (const chunk of response.body) received += (chunk as Buffer).length;
        return { received, error: undefined };
      } catch (error) {
        return { received, error };
      }
    };
    const live = await consume(recorder);
    expect(live.error).toBeInstanceOf(Error);
    await recorder.close();
    const entry = readCassette(cassette).entries[0];
    expect(entry?.response?.body.size).toBe(live.received);
    expect(entry?.error).toMatchObject({ phase: 'response' });
    const replayed = await consume(createReplayDispatcher({ cassette }));
    expect(replayed.received).toBe(live.received);
    expect((replayed.error as Error).message).toContain('replayed failure while reading the response body');
  });

  it('records and replays concurrent requests (unordered matching)', async () => {
    const cassette = join(directory, 'concurrent.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    const urls = Array.from({ length: 6 }, (_, i) => `${origin}/counter?n=${i}`);
    const recorded = await Promise.all(urls.map((url) => call(recorder, url)));
    await recorder.close();
    expect(readCassette(cassette).entries).toHaveLength(6);
    const replayer = createReplayDispatcher({ cassette });
    const replayed = await Promise.all([...urls].reverse().map((url) => call(replayer, url)));
    expect(replayed.reverse().map((result) => result.body.toString())).toEqual(
      recorded.map((result) => result.body.toString()),
    );
  });

  it('pauses and resumes a large replayed body under back-pressure', async () => {
    const cassette = join(directory, 'pressure.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    await call(recorder, `${origin}/big`);
    await recorder.close();
    const response = await request(`${origin}/big`, {
      dispatcher: createReplayDispatcher({ cassette }),
      highWaterMark: 1024,
    });
    const hash = createHash('sha256');
    for await (const chunk of response.body) {
      hash.update(chunk as Buffer);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(hash.digest('hex')).toBe(createHash('sha256').update(BIG).digest('hex'));
  });
});

describe('recording handler with legacy callbacks from the wrapped dispatcher', () => {
  it('records a dispatcher that drives handlers through onConnect/onHeaders/onData/onComplete', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-cassette-'));
    try {
      class LegacyDispatcher extends (Agent as unknown as typeof Dispatcher) {
        override dispatch(
          _options: Dispatcher.DispatchOptions,
          handler: Dispatcher.DispatchHandler,
        ): boolean {
          setImmediate(() => {
            handler.onConnect?.(() => {});
            const headers = [
              Buffer.from('content-type'),
              Buffer.from('text/plain'),
              Buffer.from('x-a'),
              Buffer.from('1'),
            ];
            handler.onHeaders?.(200, headers, () => {}, 'OK');
            handler.onData?.(Buffer.from('hello '));
            handler.onData?.(Buffer.from('world'));
            handler.onComplete?.([]);
          });
          return true;
        }
        override close(): Promise<void> {
          return Promise.resolve();
        }
      }
      const cassette = join(directory, 'legacy.json');
      const recorder = createRecordingDispatcher({ dispatcher: new LegacyDispatcher(), cassette });
      const result = await call(recorder, 'https://ghcr.io/v2/');
      expect(result.body.toString()).toBe('hello world');
      expect(result.headers['x-a']).toBe('1');
      await recorder.close();
      const file = readCassette(cassette);
      expect(file.entries[0]?.response).toMatchObject({
        status: 200,
        statusText: 'OK',
        headers: { 'content-type': 'text/plain', 'x-a': '1' },
        body: { encoding: 'utf8', data: 'hello world' },
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('no secret survives in a cassette', () => {
  it('redacts Basic and Bearer credentials, token bodies, cookies and signed URLs in every file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-cassette-'));
    const pat = 'ghp_PatSecretValue0123456789abcdefABCDEF';
    const registryToken = 'djE6cmVnaXN0cnktdG9rZW4tc2VjcmV0LXZhbHVl';
    const signature = 'SignatureSecret%2BValue%3D%3Dxyz987';
    const refresh = 'refresh-secret-value-5555';
    const cookie = 'cookie-secret-value-4444';
    const basic = Buffer.from(`someone:${pat}`).toString('base64');
    const bearerPat = Buffer.from(pat).toString('base64');
    const bigToken = randomBytes(300 * 1024);
    const server = createServer((message, response) => {
      void (async () => {
        const body = await readAll(message);
        const url = new URL(message.url ?? '/', 'http://localhost');
        if (url.pathname === '/token') {
          const ok = message.headers.authorization === `Basic ${basic}`;
          const json = JSON.stringify({ token: registryToken, nested: { refresh_token: refresh } });
          response.writeHead(ok ? 200 : 401, {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(json),
            'set-cookie': `s=${cookie}`,
          });
          response.end(json);
        } else if (url.pathname === '/v2/o/n/blobs/sha256:abc') {
          response.writeHead(307, {
            location: `http://${message.headers.host}/blob/abc?se=2026-01-01T00%3A10%3A00Z&sig=${signature}&sv=2021`,
          });
          response.end();
        } else if (url.pathname === '/blob/abc') {
          response.writeHead(200, { 'content-type': 'application/octet-stream' });
          response.end(bigToken);
        } else if (url.pathname === '/login') {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ ok: true, received: body.length }));
        } else {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"ok":true}');
        }
      })();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const cassette = join(directory, 'secrets.json');
      const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
      const token = await call(recorder, `${origin}/token?service=ghcr.io&scope=repository:o/n:pull`, {
        headers: { authorization: `Basic ${basic}` },
      });
      expect(JSON.parse(token.body.toString()).token).toBe(registryToken);
      await call(recorder, `${origin}/v2/`, { headers: { authorization: `Bearer ${bearerPat}` } });
      const redirect = await call(recorder, `${origin}/v2/o/n/blobs/sha256:abc`, {
        headers: { authorization: `Bearer ${registryToken}` },
      });
      expect(redirect.status).toBe(307);
      const location = String(redirect.headers.location);
      expect(location).toContain(signature);
      await call(recorder, location);
      await call(recorder, `${origin}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `session=${cookie}` },
        body: JSON.stringify({ username: 'someone', password: pat }),
      });
      await call(recorder, `${origin}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=password&username=someone&password=${pat}&refresh_token=${refresh}`,
      });
      await call(recorder, `http://someone:${pat}@127.0.0.1:${(server.address() as AddressInfo).port}/v2/`);
      await recorder.close();

      const secrets = [
        pat,
        registryToken,
        signature,
        decodeURIComponent(signature),
        refresh,
        cookie,
        basic,
        bearerPat,
      ];
      const files = await listFiles(directory);
      expect(files.length).toBeGreaterThan(1); // the cassette and the big blob
      for (const file of files) {
        const content = await readFile(file);
        for (const secret of secrets) {
          expect(content.includes(secret), `${secret} in ${file}`).toBe(false);
          expect(
            content.includes(Buffer.from(secret).toString('base64')),
            `base64 ${secret} in ${file}`,
          ).toBe(false);
        }
      }

      // The cassette still replays: matching uses the redacted form of URLs and bodies.
      const replayer = createReplayDispatcher({ cassette });
      const replayedToken = await call(
        replayer,
        `${origin}/token?service=ghcr.io&scope=repository:o/n:pull`,
        {
          headers: { authorization: `Basic ${basic}` },
        },
      );
      const tokenBody = JSON.parse(replayedToken.body.toString());
      expect(tokenBody).toEqual({ token: 'REDACTED', nested: { refresh_token: 'REDACTED' } });
      expect(replayedToken.headers['content-length']).toBe(String(replayedToken.body.length));
      await call(replayer, `${origin}/v2/`, { headers: { authorization: 'Bearer anything' } });
      const replayedRedirect = await call(replayer, `${origin}/v2/o/n/blobs/sha256:abc`);
      const replayedLocation = String(replayedRedirect.headers.location);
      expect(replayedLocation).toContain('sig=REDACTED');
      expect((await call(replayer, replayedLocation)).body.equals(bigToken)).toBe(true);
      // A live request carrying the real signature matches the redacted recording too.
      const cassetteEntries = readCassette(cassette).entries;
      expect(cassetteEntries[0]?.request.headers.authorization).toBe('Basic REDACTED');
      expect(cassetteEntries[2]?.request.headers.authorization).toBe('Bearer REDACTED');
      expect(cassetteEntries[0]?.response?.headers['set-cookie']).toBe('s=REDACTED');
      expect(cassetteEntries[4]?.request.headers.cookie).toBe('session=REDACTED');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    }
  });
});

async function listFiles(directory: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}

function randomBytesSeeded(size: number): Buffer {
  const out = Buffer.alloc(size);
  let state = 12345;
  for (let i = 0; i < size; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    out[i] = state & 0xff;
  }
  return out;
}
