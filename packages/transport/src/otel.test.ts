import { GhcrError } from '@ghcr/oci-types';
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createOperationTracing } from './operation-tracing.js';
import { contextWithSpan, spanOfContext } from './otel.js';
import { createTransport } from './transport.js';

const ORIGIN = 'https://registry.test';

function sdk() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

function mockRegistry() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return { agent, pool: agent.get(ORIGIN) };
}

const parentId = (span: ReadableSpan | undefined): string | undefined => span?.parentSpanContext?.spanId;
const id = (span: ReadableSpan | undefined): string | undefined => span?.spanContext().spanId;

afterEach(() => {
  // The global provider is process state: leave none behind for the next test.
  trace.disable();
  context.disable();
});

describe('without loading @opentelemetry/api', () => {
  it('keeps the active span under the same context key as the API', () => {
    const { provider } = sdk();
    const span = provider.getTracer('t').startSpan('s');
    expect(trace.getSpan(contextWithSpan(ROOT_CONTEXT, span))).toBe(span);
    expect(spanOfContext(trace.setSpan(ROOT_CONTEXT, span))).toBe(span);
    span.end();
  });

  it('uses the globally registered tracer provider when no tracer is passed, and none when none is registered', async () => {
    const { exporter, provider } = sdk();
    const { agent, pool } = mockRegistry();
    pool.intercept({ path: '/v2/', method: 'GET' }).reply(200, '{}').times(2);
    const transport = createTransport({ dispatcher: agent });
    const send = () => transport.send({ operation: 'ping', method: 'GET', url: `${ORIGIN}/v2/` });
    await (await send()).body.text();
    expect(exporter.getFinishedSpans()).toEqual([]);

    // Registered after the transport was made: it still counts.
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    await (await send()).body.text();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => [span.name, span.kind])).toEqual([
      ['GET', SpanKind.CLIENT],
      ['ping', SpanKind.INTERNAL],
    ]);
    expect(parentId(spans[0])).toBe(id(spans[1]));
    expect(spans[1]?.instrumentationScope.name).toBe('@ghcr/transport');
  });
});

describe('operation spans', () => {
  it('parents the HTTP spans of the requests an operation sends, with no context manager', async () => {
    const { exporter, provider } = sdk();
    const { agent, pool } = mockRegistry();
    pool.intercept({ path: '/v2/o/n/manifests/1', method: 'HEAD' }).reply(404, '');
    pool.intercept({ path: '/v2/o/n/manifests/1', method: 'PUT' }).reply(201, '');
    const tracer = provider.getTracer('t');
    const transport = createTransport({ dispatcher: agent, tracer });
    const tracing = createOperationTracing({ tracer });
    const send = (method: string) =>
      transport.send({
        operation: `manifests.${method.toLowerCase()}`,
        method,
        url: `${ORIGIN}/v2/o/n/manifests/1`,
        acceptStatus: [404],
        traceContext: tracing.current(),
      });
    expect(tracing.current()).toBeUndefined();
    const result = await tracing.run(
      'images.push',
      {
        attributes: { 'ghcr.repository': 'o/n' },
        resultAttributes: (value: number) => ({ 'ghcr.count': value }),
      },
      async () => {
        await (await send('HEAD')).body.dump();
        await (await send('PUT')).body.dump();
        return 2;
      },
    );
    expect(result).toBe(2);
    const spans = exporter.getFinishedSpans();
    const operation = spans.find((span) => span.name === 'images.push');
    expect(operation?.kind).toBe(SpanKind.INTERNAL);
    expect(operation?.parentSpanContext).toBeUndefined();
    expect(operation?.attributes).toEqual({
      'ghcr.operation': 'images.push',
      'ghcr.repository': 'o/n',
      'ghcr.count': 2,
    });
    // No span per request inside an operation: the HTTP spans are the operation's children.
    expect(spans.map((span) => span.name)).toEqual(['HEAD', 'PUT', 'images.push']);
    expect(spans.slice(0, 2).map(parentId)).toEqual([id(operation), id(operation)]);
    expect(spans.slice(0, 2).map((span) => span.attributes['http.response.status_code'])).toEqual([404, 201]);
  });

  it('nests operations, folds leaf operations into the one around them, and records errors', async () => {
    const { exporter, provider } = sdk();
    const tracing = createOperationTracing({ tracer: provider.getTracer('t') });
    const failure = new GhcrError('GET "https://registry.test/v2/": status 500', {
      code: 'GHCR_SERVER_ERROR',
    });
    const outcome = await tracing
      .run('sync.run', {}, async () => {
        await tracing.run('blobs.exists', { nested: false }, async () => undefined);
        await tracing.run('images.copy', {}, async () => {
          throw failure;
        });
      })
      .catch((error: unknown) => error);
    expect(outcome).toBe(failure);
    await tracing.run('blobs.exists', { nested: false }, async () => undefined);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((span) => span.name)).toEqual(['images.copy', 'sync.run', 'blobs.exists']);
    const [copy, sync, alone] = spans;
    expect(parentId(copy)).toBe(id(sync));
    expect(alone?.parentSpanContext).toBeUndefined();
    for (const span of [copy, sync]) {
      expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: failure.message });
      expect(span?.attributes['error.type']).toBe('GHCR_SERVER_ERROR');
      expect(span?.events.map((event) => [event.name, event.attributes?.['exception.message']])).toEqual([
        ['exception', failure.message],
      ]);
    }
  });

  it('redacts what another error says before recording it', () => {
    const { exporter, provider } = sdk();
    const tracing = createOperationTracing({ tracer: provider.getTracer('t') });
    expect(() =>
      tracing.run('retention.plan', {}, () => {
        throw new TypeError('failed with Bearer abcdefghijklmnop at https://x.test/b?sig=SECRETSIG');
      }),
    ).toThrow(TypeError);
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('GHCR_INTERNAL');
    const dump = JSON.stringify(span?.events);
    expect(dump).toContain('Bearer REDACTED');
    expect(dump).toContain('sig=REDACTED');
    expect(dump).not.toContain('abcdefghijklmnop');
    expect(dump).not.toContain('SECRETSIG');
  });

  it('traces an iteration from its start to its end, with the operation current inside it', async () => {
    const { exporter, provider } = sdk();
    const tracing = createOperationTracing({ tracer: provider.getTracer('t') });
    const seen: boolean[] = [];
    async function* pages() {
      seen.push(tracing.current() !== undefined);
      yield 1;
      seen.push(tracing.current() !== undefined);
      yield 2;
    }
    const iterable = tracing.iterate(
      'versions.iterate',
      { attributes: () => ({ 'ghcr.repository': 'o/n' }) },
      pages(),
    );
    expect(exporter.getFinishedSpans()).toEqual([]);
    const values: number[] = [];
    for await (const value of iterable) {
      values.push(value);
      expect(exporter.getFinishedSpans()).toEqual([]);
    }
    expect(values).toEqual([1, 2]);
    expect(seen).toEqual([true, true]);
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes])).toEqual([
      ['versions.iterate', { 'ghcr.operation': 'versions.iterate', 'ghcr.repository': 'o/n' }],
    ]);

    // Leaving the loop early ends the span too.
    for await (const value of tracing.iterate('versions.iterate', {}, pages())) {
      expect(value).toBe(1);
      break;
    }
    expect(exporter.getFinishedSpans()).toHaveLength(2);
  });

  it('calls the operation as it is when there is no tracer', async () => {
    const tracing = createOperationTracing();
    const value = { answer: 42 };
    const attributes = () => {
      throw new Error('attributes are read only for a span');
    };
    expect(tracing.run('images.push', { attributes }, () => value)).toBe(value);
    await expect(tracing.run('images.push', {}, async () => value)).resolves.toBe(value);
    expect(tracing.current()).toBeUndefined();
  });
});
