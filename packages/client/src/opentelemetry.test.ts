import { staticCredentials } from '@ghcr/auth';
import { createManualClock } from '@ghcr/oci-types';
import { createSimulation } from '@ghcr/simulation';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createGhcrClient } from './client.js';
import { randomImage, tempDir } from './testing/images-kit.js';

/**
 * The README's setup ("Tracing with OpenTelemetry"), with the in-memory exporter in place of the
 * console one.
 */
function startTracing(exporter: SpanExporter, options: { contextManager: boolean }): BasicTracerProvider {
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  if (options.contextManager) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return provider;
}

afterEach(() => {
  trace.disable();
  context.disable();
});

/** A GHCR simulation, a user `octo` and a client of it with octo's PAT (and no tracer option). */
function simulatedGhcr() {
  const clock = createManualClock();
  const sim = createSimulation({ profile: 'ghcr', clock });
  sim.createUser('octo');
  const pat = sim.createToken({
    user: 'octo',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const client = createGhcrClient({
    dispatcher: sim.dispatcher(),
    clock,
    credentials: staticCredentials({ username: 'octo', password: pat }),
  });
  return { sim, client, pat };
}

async function finished(
  provider: BasicTracerProvider,
  exporter: InMemorySpanExporter,
): Promise<ReadableSpan[]> {
  await provider.forceFlush();
  return exporter.getFinishedSpans();
}

const spanId = (span: ReadableSpan | undefined): string | undefined => span?.spanContext().spanId;
const childrenOf = (spans: readonly ReadableSpan[], parent: ReadableSpan | undefined): ReadableSpan[] =>
  spans.filter((span) => span.parentSpanContext?.spanId === spanId(parent));
const named = (spans: readonly ReadableSpan[], name: string): ReadableSpan => {
  const found = spans.filter((span) => span.name === name);
  expect(found, `one span named ${name}`).toHaveLength(1);
  return found[0] as ReadableSpan;
};

/** What each operation span must be: a root, its HTTP requests its CLIENT children. */
function expectOperation(spans: readonly ReadableSpan[], name: string): ReadableSpan[] {
  const operation = named(spans, name);
  expect(operation.kind).toBe(SpanKind.INTERNAL);
  expect(operation.parentSpanContext).toBeUndefined();
  const requests = childrenOf(spans, operation);
  expect(requests.length).toBeGreaterThan(0);
  for (const request of requests) {
    expect(request.kind).toBe(SpanKind.CLIENT);
    expect(request.name).toBe(request.attributes['http.request.method']);
    expect(request.attributes['url.full']).toMatch(/^https:\/\//);
    expect(request.attributes['server.port']).toBe(443);
    expect(typeof request.attributes['http.response.status_code']).toBe('number');
  }
  return requests;
}

describe.each([
  { contextManager: true, title: 'with the README setup (a context manager)' },
  { contextManager: false, title: 'with a provider and no context manager' },
])('OpenTelemetry $title', ({ contextManager }) => {
  it('gives push, tag, pull and the referrers one span each, every HTTP request a child of its operation', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = startTracing(exporter, { contextManager });
    const { client } = simulatedGhcr();
    const image = await randomImage([1024, 2048]);
    const activeInProgress = new Set<string | undefined>();
    const pushed = await client.images.push(
      'ghcr.io/octo/app:1.0.0',
      { target: image.target, reference: 'v1' },
      { onProgress: () => activeInProgress.add(spanId(trace.getActiveSpan() as ReadableSpan | undefined)) },
    );
    await client.tags.tag('octo/app', '1.0.0', ['latest']);
    const directory = await tempDir('ghcr-otel-');
    await client.images.pull('octo/app:latest', directory);
    await client.referrers.list('octo/app', pushed.descriptor.digest);
    const spans = await finished(provider, exporter);

    const roots = spans.filter((span) => span.parentSpanContext === undefined).map((span) => span.name);
    expect(roots.sort()).toEqual(['images.pull', 'images.push', 'referrers.list', 'tags.tag']);
    // No span per transport request inside an operation: only operations and HTTP requests.
    expect(spans.every((span) => span.kind === SpanKind.CLIENT || roots.includes(span.name))).toBe(true);

    const push = named(spans, 'images.push');
    expect(push.attributes).toMatchObject({
      'ghcr.operation': 'images.push',
      'ghcr.registry': 'ghcr.io',
      'ghcr.repository': 'octo/app',
      'ghcr.reference': '1.0.0',
      'ghcr.digest': pushed.descriptor.digest,
      'ghcr.blobs.transferred': pushed.transferred,
      'ghcr.bytes_transferred': pushed.bytesTransferred,
    });
    const pushRequests = expectOperation(spans, 'images.push');
    expect(pushRequests.every((span) => span.attributes['server.address'] === 'ghcr.io')).toBe(true);
    expect(pushRequests.map((span) => span.name)).toContain('PUT');
    // The operation is the active span for code it calls back, when a context manager carries it.
    expect([...activeInProgress]).toEqual(contextManager ? [spanId(push)] : [undefined]);

    expectOperation(spans, 'tags.tag');
    expect(named(spans, 'tags.tag').attributes).toMatchObject({
      'ghcr.repository': 'octo/app',
      'ghcr.tags': ['latest'],
    });

    // GHCR sends blob GETs to a signed URL on another host: its signature is not in url.full.
    const pullRequests = expectOperation(spans, 'images.pull');
    const blobHost = pullRequests.filter(
      (span) => span.attributes['server.address'] === 'pkg-containers.githubusercontent.com',
    );
    expect(blobHost.length).toBeGreaterThan(0);
    for (const span of blobHost) {
      expect(span.attributes['url.full']).toContain('sig=REDACTED');
      expect(span.attributes['url.full']).not.toMatch(/sig=(?!REDACTED)/);
    }
    expect(named(spans, 'images.pull').attributes).toMatchObject({
      'ghcr.reference': 'latest',
      'ghcr.digest': pushed.descriptor.digest,
    });

    expectOperation(spans, 'referrers.list');
    expect(named(spans, 'referrers.list').attributes).toMatchObject({
      'ghcr.reference': pushed.descriptor.digest,
      'ghcr.referrers.count': 0,
    });
  });

  it('marks a failed operation ERROR with its exception, and its failed request with error.type', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = startTracing(exporter, { contextManager });
    const { client } = simulatedGhcr();
    const image = await randomImage([16]);
    await client.images.push('octo/app:1', { target: image.target, reference: 'v1' });
    const error = await client.images.inspect('octo/app:missing').then(
      () => expect.fail('inspecting a missing tag resolved'),
      (caught: unknown) => caught as Error,
    );
    const spans = await finished(provider, exporter);
    const inspect = named(spans, 'images.inspect');
    expect(inspect.status).toEqual({ code: SpanStatusCode.ERROR, message: error.message });
    expect(inspect.attributes['error.type']).toBe('MANIFEST_UNKNOWN');
    expect(inspect.events.map((event) => event.attributes?.['exception.message'])).toEqual([error.message]);
    const failed = childrenOf(spans, inspect).filter(
      (span) => span.attributes['http.response.status_code'] === 404,
    );
    expect(failed.length).toBeGreaterThan(0);
    for (const span of failed) expect(span.attributes['error.type']).toBe('404');
  });

  it('traces versions and retention: a span for listing, reading the graph and planning', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = startTracing(exporter, { contextManager });
    const { client } = simulatedGhcr();
    const image = await randomImage([16]);
    await client.images.push('octo/app:1', { target: image.target, reference: 'v1' });
    const versions = await client.versions.list('octo/app');
    const graph = await client.retention.readGraph('octo/app', versions);
    const plan = client.retention.plan(versions, graph, { keepNewestTagged: 1 });
    const spans = await finished(provider, exporter);
    const list = expectOperation(spans, 'versions.list');
    expect(list.every((span) => span.attributes['server.address'] === 'api.github.com')).toBe(true);
    expect(named(spans, 'versions.list').attributes['ghcr.versions.count']).toBe(versions.length);
    expectOperation(spans, 'retention.readGraph');
    const planned = named(spans, 'retention.plan');
    expect(planned.parentSpanContext).toBeUndefined();
    expect(planned.attributes).toMatchObject({
      'ghcr.retention.versions': versions.length,
      'ghcr.retention.keep': plan.summary.keep,
      'ghcr.retention.delete': plan.summary.delete,
    });
  });
});

describe('secrets in spans', () => {
  it('puts the PAT nowhere in a span, plain or base64, through a push, a pull, a copy and failures (one echoing it)', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = startTracing(exporter, { contextManager: true });
    const { client, pat, sim } = simulatedGhcr();
    const image = await randomImage([64, 128]);
    await client.images.push('octo/app:1', { target: image.target, reference: 'v1' });
    const directory = await tempDir('ghcr-otel-');
    await client.images.pull('octo/app:1', directory);
    await client.images.copy('octo/app:1', 'octo/other:1');
    await client.images.inspect('octo/nothing:1').catch(() => undefined);
    // A registry that echoes the credential in an error body: the error, and so the span, says
    // REDACTED instead.
    const echo = `credential ${pat} ${Buffer.from(pat).toString('base64')}`;
    sim.faults.add({
      host: 'ghcr.io',
      method: 'GET',
      path: '/manifests/',
      count: 1,
      action: {
        type: 'status',
        status: 400,
        body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: echo }] }),
      },
    });
    const echoed = await client.images.inspect('octo/app:1').then(
      () => expect.fail('the fault did not fire'),
      (caught: unknown) => caught as Error,
    );
    expect(echoed.message).toContain('credential REDACTED REDACTED');
    const spans = await finished(provider, exporter);
    expect(spans.length).toBeGreaterThan(10);
    const dump = JSON.stringify(
      spans.map((span) => ({
        name: span.name,
        attributes: span.attributes,
        status: span.status,
        events: span.events,
        links: span.links,
      })),
    );
    const forms = [
      pat,
      Buffer.from(pat).toString('base64'),
      Buffer.from(`octo:${pat}`).toString('base64'),
      Buffer.from(pat).toString('base64url'),
    ];
    for (const form of forms) expect(dump).not.toContain(form);
    // What is there instead: the operations and the redacted URLs.
    expect(dump).toContain('images.copy');
    expect(dump).toContain('sig=REDACTED');
    expect(dump).toContain('credential REDACTED REDACTED');
  });
});
