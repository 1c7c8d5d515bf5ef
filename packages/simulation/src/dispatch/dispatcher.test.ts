import { Readable } from 'node:stream';
import { digestOf, SimulationMismatchError } from '@ghcr/oci-types';
import { HttpResponse, http } from 'msw';
import { Agent, type Dispatcher, fetch, interceptors, request } from 'undici';
import { beforeEach, describe, expect, it } from 'vitest';
import { pushImage } from '../scenarios/push.js';
import { createTestBed, type TestBed, uploadBlob } from '../testing/test-bed.js';

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition never became true');
}

describe('SimulationDispatcher', () => {
  let bed: TestBed;
  let pat: string;
  let auth: string;
  beforeEach(() => {
    bed = createTestBed();
    pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
    auth = `Bearer ${Buffer.from(pat).toString('base64')}`;
  });

  it('drives legacy handler callbacks (onConnect, onHeaders, onData, onComplete)', async () => {
    const calls: string[] = [];
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      bed.dispatcher.dispatch(
        { origin: 'https://ghcr.io', path: '/v2/', method: 'GET', headers: { authorization: auth } },
        {
          onConnect: () => calls.push('connect'),
          onHeaders: (status: number, rawHeaders: Buffer[]) => {
            calls.push(`headers ${status}`);
            expect(
              rawHeaders.map((value) => value.toString()).includes('docker-distribution-api-version'),
            ).toBe(true);
            return true;
          },
          onData: (chunk: Buffer) => {
            chunks.push(chunk);
            return true;
          },
          onComplete: () => {
            calls.push('complete');
            resolve();
          },
          onError: reject,
        } as Dispatcher.DispatchHandler,
      );
    });
    expect(calls).toEqual(['connect', 'headers 200', 'complete']);
    expect(Buffer.concat(chunks).toString()).toBe('{}');
  });

  it('drives the controller API (onRequestStart … onResponseEnd) and honours pause/resume', async () => {
    const image = await pushImage(bed.sim, 'octocat/app', { layers: ['x'.repeat(10)], tag: 'latest' });
    let produced = 0;
    bed.sim.handlers.unshift(
      http.get('https://ghcr.io/stream', () => {
        const stream = new ReadableStream<Uint8Array>(
          {
            pull(controller) {
              produced += 1;
              if (produced > 20) controller.close();
              else controller.enqueue(new Uint8Array(16).fill(produced));
            },
          },
          { highWaterMark: 0 },
        );
        return new HttpResponse(stream);
      }),
    );
    const seen: string[] = [];
    let received = 0;
    let controllerRef: Dispatcher.DispatchController | undefined;
    const finished = new Promise<void>((resolve, reject) => {
      bed.dispatcher.dispatch(
        { origin: 'https://ghcr.io', path: '/stream', method: 'GET' },
        {
          onRequestStart: (controller) => {
            controllerRef = controller;
            seen.push('start');
          },
          onResponseStart: (_controller, status) => seen.push(`response ${status}`),
          onResponseData: (controller, chunk) => {
            received += chunk.byteLength;
            if (received === 16) controller.pause();
          },
          onResponseEnd: () => {
            seen.push('end');
            resolve();
          },
          onResponseError: (_controller, error) => reject(error),
        },
      );
    });
    await until(() => received === 16);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(received).toBe(16);
    expect(produced).toBeLessThanOrEqual(3);
    controllerRef?.resume();
    await finished;
    expect(received).toBe(20 * 16);
    expect(seen).toEqual(['start', 'response 200', 'end']);
    expect(image.digest).toMatch(/^sha256:/);
  });

  it('applies backpressure to request bodies: the producer runs only as far as the handler reads', async () => {
    let produced = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let readTwo = false;
    bed.sim.handlers.unshift(
      http.put('https://ghcr.io/slow-sink', async ({ request: incoming }) => {
        const reader = incoming.body?.getReader();
        let total = 0;
        for (let i = 0; i < 2; i++) total += (await reader?.read())?.value?.byteLength ?? 0;
        readTwo = true;
        await released;
        for (;;) {
          const next = await reader?.read();
          if (next === undefined || next.done) break;
          total += next.value.byteLength;
        }
        return HttpResponse.json({ total });
      }),
    );
    async function* body() {
      for (let i = 0; i < 100; i++) {
        produced += 1;
        yield Buffer.alloc(1024, i);
      }
    }
    const pending = request('https://ghcr.io/slow-sink', {
      method: 'PUT',
      body: body() as unknown as Readable,
      dispatcher: bed.dispatcher,
    });
    await until(() => readTwo);
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(produced).toBeLessThanOrEqual(4);
    release();
    const response = await pending;
    expect(await response.body.json()).toEqual({ total: 100 * 1024 });
  });

  it('accepts string, Buffer, Readable and async-iterable request bodies', async () => {
    const bodies: [string, () => unknown][] = [
      ['string', () => 'a string body'],
      ['buffer', () => Buffer.from('a buffer body')],
      ['readable', () => Readable.from([Buffer.from('a readable '), Buffer.from('body')])],
      [
        'iterable',
        () =>
          (async function* () {
            yield new TextEncoder().encode('an iterable ');
            yield 'body';
          })(),
      ],
    ];
    const expected = ['a string body', 'a buffer body', 'a readable body', 'an iterable body'];
    for (const [index, [, make]] of bodies.entries()) {
      const text = expected[index] ?? '';
      const response = await request(
        `https://ghcr.io/v2/octocat/app/blobs/uploads/?digest=${digestOf(text)}`,
        {
          method: 'POST',
          headers: { authorization: auth },
          body: make() as string,
          dispatcher: bed.dispatcher,
        },
      );
      await response.body.dump();
      expect(response.statusCode).toBe(201);
    }
  });

  it('works with fetch({ dispatcher }), Agent({ factory }) and compose(redirect), dropping Authorization across origins', async () => {
    const digest = await uploadBlob(bed, 'octocat/app', 'followed', { pat });
    const viaFetch = await fetch(`https://ghcr.io/v2/octocat/app/blobs/${digest}`, {
      headers: { authorization: auth },
      dispatcher: bed.dispatcher,
    });
    expect(viaFetch.status).toBe(200);
    expect(await viaFetch.text()).toBe('followed');

    const agent = new Agent({ factory: () => bed.sim.dispatcher() });
    const viaAgent = await request('https://ghcr.io/v2/', {
      headers: { authorization: auth },
      dispatcher: agent,
    });
    expect(viaAgent.statusCode).toBe(200);
    await viaAgent.body.dump();
    await agent.close();

    const composed = bed.sim.dispatcher().compose(interceptors.redirect({ maxRedirections: 2 }));
    const followed = await request(`https://ghcr.io/v2/octocat/app/blobs/${digest}`, {
      headers: { authorization: auth },
      dispatcher: composed,
    });
    expect(followed.statusCode).toBe(200);
    expect(await followed.body.text()).toBe('followed');
    const hop = bed.sim.log.byOperation('blobhost.get').at(-1);
    expect(hop?.hadAuthorization).toBe(false);
  });

  it('fails loudly on a request no handler matches, naming METHOD URL', async () => {
    const failure = request('https://example.invalid/some/path?x=1', {
      method: 'DELETE',
      dispatcher: bed.dispatcher,
    });
    await expect(failure).rejects.toSatisfy(
      (error: unknown) =>
        SimulationMismatchError.isInstance(error) &&
        error.message.includes('DELETE https://example.invalid/some/path?x=1'),
    );
  });

  it('aborts through the signal, cancelling a pending delay', async () => {
    await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    bed.sim.faults.add({ operation: 'manifest.get', action: { type: 'delay', ms: 60_000 } });
    const controller = new AbortController();
    const pending = request('https://ghcr.io/v2/octocat/app/manifests/latest', {
      headers: { authorization: auth },
      dispatcher: bed.dispatcher,
      signal: controller.signal,
    });
    await until(() => bed.clock.pendingSleeps === 1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => bed.clock.pendingSleeps === 0);
  });

  it('refuses dispatches after close and aborts in-flight requests on destroy', async () => {
    const closing = bed.sim.dispatcher();
    await closing.close();
    await expect(request('https://ghcr.io/v2/', { dispatcher: closing })).rejects.toMatchObject({
      code: 'UND_ERR_CLOSED',
    });
    await pushImage(bed.sim, 'octocat/app', { tag: 'latest' });
    bed.sim.faults.add({ operation: 'manifest.get', action: { type: 'delay', ms: 60_000 } });
    const destroying = bed.sim.dispatcher();
    const pending = request('https://ghcr.io/v2/octocat/app/manifests/latest', {
      headers: { authorization: auth },
      dispatcher: destroying,
    });
    await until(() => bed.clock.pendingSleeps === 1);
    await destroying.destroy();
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_DESTROYED' });
  });
});
