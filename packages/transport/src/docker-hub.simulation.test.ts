import { createTokenManager, staticCredentials } from '@ghcr/auth';
import { GhcrError, MediaType, RateLimitError } from '@ghcr/oci-types';
import { createSimulation, type SimulationOptions, seedDockerHub } from '@ghcr/simulation';
import { createRecordingClock, settle } from '@ghcr/test-support';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { RateLimitEvent } from './rate-limiter.js';
import { createRegistryAuthorizer } from './registry-authorizer.js';
import { createTransport, transportDetails } from './transport.js';

const HUB = 'https://registry-1.docker.io';
const ALPINE = `${HUB}/v2/library/alpine/manifests/3`;
const ACCEPT = `${MediaType.OciIndex}, ${MediaType.OciManifest}`;

async function hub(dockerhub: SimulationOptions['dockerhub'] = {}) {
  const clock = createRecordingClock(Date.UTC(2026, 0, 1));
  const simulation = createSimulation({ profile: 'dockerhub', clock, dockerhub });
  const seed = await seedDockerHub(simulation);
  const dispatcher = simulation.dispatcher();
  const registry = new Registry();
  const events: RateLimitEvent[] = [];
  const transport = createTransport({
    dispatcher,
    clock,
    retry: { random: () => 0 },
    metrics: { registry },
    rateLimit: {
      onRateLimit: (event) => {
        events.push(event);
        return true;
      },
    },
    authorizer: createRegistryAuthorizer({
      tokenManager: createTokenManager({ dispatcher, credentials: staticCredentials({}), clock }),
    }),
  });
  const manifest = (method: 'GET' | 'HEAD', url = ALPINE) =>
    transport.send({
      operation: method === 'GET' ? 'manifests.get' : 'manifests.exists',
      method,
      url,
      headers: { accept: ACCEPT },
      auth: { kind: 'registry', repository: 'library/alpine', actions: ['pull'] },
    });
  return { clock, simulation, seed, transport, registry, events, manifest };
}

describe("Docker Hub's pull quota, seen from the transport", () => {
  it('keeps the last quota per host for library users and metrics, the window from w=, the source out of labels', async () => {
    const { transport, registry, manifest, simulation } = await hub({ windowSeconds: 3600 });
    expect(transport.rateLimit('registry-1.docker.io')).toBeUndefined();
    await (await manifest('HEAD')).body.dump();
    expect(transport.rateLimit('registry-1.docker.io')).toEqual({
      limit: 100,
      remaining: 100,
      resetAt: simulation.clock.now() + 3_600_000,
      resource: 'docker-pulls',
      windowMs: 3_600_000,
      source: '192.0.2.1',
    });
    await (await manifest('GET')).body.dump();
    expect(transport.rateLimit(ALPINE)).toMatchObject({ remaining: 99 });
    expect(transportDetails(transport).rateLimiter.info('registry-1.docker.io/docker-pulls')).toMatchObject({
      remaining: 99,
    });
    const text = await registry.metrics();
    expect(text).toContain('ghcr_rate_limit_remaining{resource="docker-pulls"} 99');
    expect(text).toContain('ghcr_rate_limit_limit{resource="docker-pulls"} 100');
    expect(text).not.toContain('192.0.2.1');
  });

  it('fails a spent 6-hour quota at once with the error that says what to do: no retries, no waits', async () => {
    const { clock, manifest, simulation, events } = await hub({ anonymousPullLimit: 2 });
    await (await manifest('GET')).body.dump();
    await (await manifest('GET')).body.dump();
    const error = await manifest('GET').catch((caught: unknown) => caught);
    expect(RateLimitError.isInstance(error)).toBe(true);
    if (!GhcrError.isInstance(error)) throw error;
    expect(error.code).toBe('GHCR_PULL_QUOTA_EXCEEDED');
    expect(error.message).toContain('0 of 2 pulls left per 6-hour window');
    expect(error.message).toContain('ghcr login docker.io');
    expect(error.message).toContain('mirror');
    expect(error).toMatchObject({ remaining: 0, limit: 2, resetAt: clock.now() + 21_600_000 });
    expect(clock.sleeps).toEqual([]);
    expect(events).toEqual([]);
    const gets = simulation.log.byOperation('manifest.get').filter((entry) => entry.status !== 401);
    expect(gets.map((entry) => entry.status)).toEqual([200, 200, 429]);
    // Existence checks still work: HEADs are free and never wait.
    expect((await manifest('HEAD')).status).toBe(200);
    expect(clock.sleeps).toEqual([]);
  });

  it('waits for a short window to free a pull before the next manifest GET, through the onRateLimit hook', async () => {
    const { clock, manifest, simulation, events } = await hub({ anonymousPullLimit: 1, windowSeconds: 60 });
    await (await manifest('GET')).body.dump();
    expect((await manifest('HEAD')).status).toBe(200); // a HEAD with nothing left goes at once
    const second = await settle(manifest('GET'), clock, 1_000);
    await second.body.dump();
    expect(second.status).toBe(200);
    expect(events).toEqual([
      expect.objectContaining({
        reason: 'preemptive',
        waitMs: 60_000,
        key: 'registry-1.docker.io',
        attempt: 1,
      }),
    ]);
    // No request was sent that Hub would have refused.
    expect(simulation.log.entries.filter((entry) => entry.status === 429)).toEqual([]);
  });

  it('waits and retries once a short-window 429 comes back (the quota spent by another client)', async () => {
    const { clock, manifest, simulation, events } = await hub({ anonymousPullLimit: 1, windowSeconds: 60 });
    // Someone else on the same address spends the quota.
    const other = simulation.dispatcher();
    const { request } = await import('undici');
    const token = (await (
      await request(
        'https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/alpine:pull',
        {
          dispatcher: other,
        },
      )
    ).body.json()) as { token: string };
    await (
      await request(ALPINE, {
        headers: { authorization: `Bearer ${token.token}`, accept: ACCEPT },
        dispatcher: other,
      })
    ).body.dump();
    const response = await settle(manifest('GET'), clock, 1_000);
    await response.body.dump();
    expect(response.status).toBe(200);
    expect(events).toEqual([expect.objectContaining({ reason: 'retry-after', waitMs: 60_000 })]);
  });
});
