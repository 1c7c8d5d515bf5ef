import { GhcrError } from '@ghcr/oci-types';
import { createRecordingClock, settle } from '@ghcr/test-support';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Registry } from 'prom-client';
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createTransport } from './transport.js';

const ORIGIN = 'https://registry.test';
const SECRET_TOKEN = 'ghp_SuperSecretToken1234567890abcdef';
const SIGNATURE = 'sv=2024&sig=TOPSECRETSIGNATURE%2B%3D';

function setup() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const registry = new Registry();
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const clock = createRecordingClock();
  const transport = createTransport({
    dispatcher: agent,
    clock,
    retry: { random: () => 0 },
    metrics: { registry },
    tracer: provider.getTracer('test'),
    secrets: () => [SECRET_TOKEN],
    authorizer: {
      authorize: async () => `Bearer ${SECRET_TOKEN}`,
      challenge: async () => undefined,
      authorizeApi: async () => `Bearer ${SECRET_TOKEN}`,
    },
  });
  return { agent, registry, exporter, transport, clock, pool: agent.get(ORIGIN) };
}

describe('metrics', () => {
  it('counts requests, retries, errors and bytes by operation without URLs or secrets in labels', async () => {
    const { transport, pool, registry, clock } = setup();
    pool.intercept({ path: '/v2/o/n/blobs/sha256:a', method: 'GET' }).reply(503, '');
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:a', method: 'GET' })
      .reply(200, 'hello', { headers: { 'content-length': '5' } });
    pool
      .intercept({ path: '/v2/o/n/manifests/missing', method: 'GET' })
      .reply(404, { errors: [{ code: 'MANIFEST_UNKNOWN', message: `unknown, token ${SECRET_TOKEN}` }] });
    const auth = { kind: 'registry', repository: 'o/n', actions: ['pull'] } as const;
    const response = await settle(
      transport.send({ operation: 'blobs.get', method: 'GET', url: `${ORIGIN}/v2/o/n/blobs/sha256:a`, auth }),
      clock,
    );
    await response.body.text();
    const error = await transport
      .send({ operation: 'manifests.get', method: 'GET', url: `${ORIGIN}/v2/o/n/manifests/missing`, auth })
      .catch((e: unknown) => e);
    expect(GhcrError.isInstance(error)).toBe(true);
    expect((error as Error).message).not.toContain(SECRET_TOKEN);

    const text = await registry.metrics();
    expect(text).toContain('ghcr_requests_total{operation="blobs.get",method="GET",status="200"} 1');
    expect(text).toContain('ghcr_requests_total{operation="manifests.get",method="GET",status="404"} 1');
    expect(text).toContain('ghcr_retries_total{operation="blobs.get",reason="status 503"} 1');
    expect(text).toContain('ghcr_errors_total{operation="manifests.get",code="MANIFEST_UNKNOWN"} 1');
    expect(text).toContain('ghcr_bytes_received_total{operation="blobs.get"} 5');
    expect(text).not.toContain(SECRET_TOKEN);
    expect(text).not.toContain('o/n');
  });

  it('tracks rate-limit remaining by resource', async () => {
    const { transport, pool, registry } = setup();
    pool.intercept({ path: '/user', method: 'GET' }).reply(200, '{}', {
      headers: {
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4321',
        'x-ratelimit-reset': '9999999999',
        'x-ratelimit-resource': 'core',
      },
    });
    await transport.send({
      operation: 'users.get',
      method: 'GET',
      url: `${ORIGIN}/user`,
      auth: { kind: 'github-api' },
    });
    expect(await registry.metrics()).toContain('ghcr_rate_limit_remaining{resource="core"} 4321');
  });
});

describe('tracing', () => {
  it('opens an operation span and one CLIENT span per attempt with redacted URLs and no secrets', async () => {
    const { transport, pool, exporter, clock, agent } = setup();
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:b', method: 'GET' })
      .reply(307, '', { headers: { location: `https://blobs.test/x?${SIGNATURE}` } });
    agent
      .get('https://blobs.test')
      .intercept({ path: `/x?${SIGNATURE}`, method: 'GET' })
      .reply(500, '');
    agent
      .get('https://blobs.test')
      .intercept({ path: `/x?${SIGNATURE}`, method: 'GET' })
      .reply(200, 'ok');
    pool
      .intercept({ path: '/v2/o/n/blobs/sha256:b', method: 'GET' })
      .reply(307, '', { headers: { location: `https://blobs.test/x?${SIGNATURE}` } });
    const response = await settle(
      transport.send({
        operation: 'blobs.get',
        method: 'GET',
        url: `${ORIGIN}/v2/o/n/blobs/sha256:b`,
        auth: { kind: 'registry', repository: 'o/n', actions: ['pull'] },
      }),
      clock,
    );
    await response.body.text();
    const spans = exporter.getFinishedSpans();
    const operation = spans.find((s) => s.name === 'blobs.get');
    expect(operation?.attributes['ghcr.retry_count']).toBe(1);
    const attempts = spans.filter((s) => s.name === 'GET');
    expect(attempts.map((s) => s.attributes['http.response.status_code'])).toEqual([307, 500, 307, 200]);
    expect(attempts.map((s) => s.attributes['server.address'])).toEqual([
      'registry.test',
      'blobs.test',
      'registry.test',
      'blobs.test',
    ]);
    expect(attempts[3]?.attributes['http.request.resend_count']).toBe(1);
    const dump = JSON.stringify(
      spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })),
    );
    expect(dump).toContain('sig=REDACTED');
    expect(dump).not.toContain('TOPSECRETSIGNATURE');
    expect(dump).not.toContain(SECRET_TOKEN);
  });

  it('marks the operation span as an error with the GhcrError code', async () => {
    const { transport, pool, exporter } = setup();
    pool
      .intercept({ path: '/v2/o/n/manifests/x', method: 'GET' })
      .reply(403, { errors: [{ code: 'DENIED', message: 'denied' }] });
    await transport
      .send({ operation: 'manifests.get', method: 'GET', url: `${ORIGIN}/v2/o/n/manifests/x` })
      .catch(() => undefined);
    const spans = exporter.getFinishedSpans();
    const span = spans.find((s) => s.name === 'manifests.get');
    // The package spells these enum values out so it need not load @opentelemetry/api: they must
    // stay equal to the API's.
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    const attempt = spans.find((s) => s.name === 'GET');
    expect(attempt?.kind).toBe(SpanKind.CLIENT);
    expect(attempt?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('DENIED');
  });
});
