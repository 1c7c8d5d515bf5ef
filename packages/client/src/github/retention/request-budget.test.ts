import { createManualClock, GhcrErrorCode, RateLimitError } from '@ghcr/oci-types';
import type { Handler, RequestContext, TransportRequest, TransportResponse } from '@ghcr/transport';
import { describe, expect, it } from 'vitest';
import { createRequestBudget } from './request-budget.js';

const api: TransportRequest = {
  operation: 'versions.delete',
  method: 'DELETE',
  url: 'https://api.github.com/orgs/o/packages/container/a/versions/1',
  auth: { kind: 'github-api' },
};
const registry: TransportRequest = {
  operation: 'manifests.get',
  method: 'GET',
  url: 'https://ghcr.io/v2/o/a/manifests/latest',
  auth: { kind: 'registry', actions: ['pull'] },
};
const context = (): RequestContext => ({ clock: createManualClock(), attempt: 0, retries: [] });

function answering(headers: Record<string, string> = {}): { handler: Handler; calls: () => number } {
  let calls = 0;
  const handler: Handler = async () => {
    calls += 1;
    return { status: 204, headers, url: '', body: undefined } as unknown as TransportResponse;
  };
  return { handler, calls: () => calls };
}

describe('createRequestBudget', () => {
  it('counts API requests only, and refuses the one over the limit without sending it', async () => {
    const budget = createRequestBudget({ limit: 2 });
    const next = answering();
    const send = budget.middleware.middleware(next.handler);
    await send(registry, context());
    await send(api, context());
    await send(api, context());
    expect(budget.used).toBe(2);
    const refused = await send(api, context()).catch((error: unknown) => error);
    expect(RateLimitError.isInstance(refused)).toBe(true);
    expect((refused as RateLimitError).code).toBe(GhcrErrorCode.BUDGET_EXHAUSTED);
    expect((refused as RateLimitError).isRetryable).toBe(false);
    expect((refused as Error).message).toContain('budget of 2 GitHub API requests');
    expect(next.calls()).toBe(3);
    expect(budget.middleware.after).toBe('retry');
  });

  it("follows GitHub's x-ratelimit-remaining when it is lower than the budget", async () => {
    const budget = createRequestBudget({ limit: 1000 });
    const send = budget.middleware.middleware(
      answering({
        'x-ratelimit-limit': '1000',
        'x-ratelimit-remaining': '3',
        'x-ratelimit-reset': '1780000000',
        'x-ratelimit-resource': 'core',
      }).handler,
    );
    await send(api, context());
    expect(budget.remaining).toBe(3);
    expect(budget.github).toEqual({ remaining: 3, resetAt: 1_780_000_000_000 });
  });

  it('reserves requests together and gives back what was not spent', () => {
    const budget = createRequestBudget({ limit: 10 });
    expect(budget.reserve(6)).toBe(true);
    expect(budget.reserve(5)).toBe(false);
    expect(budget.remaining).toBe(4);
    budget.spend();
    expect(budget.reserved).toBe(5);
    budget.release(budget.reserved);
    expect(budget.remaining).toBe(10);
    expect(() => createRequestBudget({ limit: 0 })).toThrow(/whole number above 0/);
  });
});
