import { createManualClock } from '@ghcr/oci-types';
import type { TransportResponse } from '@ghcr/transport';
import { describe, expect, it } from 'vitest';
import { createRequestLog, formatRequestLogEntry } from './request-log.js';

function answer(headers: TransportResponse['headers']): TransportResponse {
  return {
    status: 200,
    headers,
    url: 'https://registry-1.docker.io/v2/library/alpine/manifests/3',
    body: { dump: async () => {}, destroy: () => {} } as unknown as TransportResponse['body'],
  };
}

describe('the --debug request log', () => {
  it("shows Docker Hub's pull quota with its window, and never its source", async () => {
    const log = createRequestLog({ secrets: () => [] });
    const handler = log.middleware(async () =>
      answer({
        'ratelimit-limit': '100;w=21600',
        'ratelimit-remaining': '97;w=21600',
        'docker-ratelimit-source': '203.0.113.7',
      }),
    );
    await handler(
      {
        operation: 'manifests.get',
        method: 'GET',
        url: 'https://registry-1.docker.io/v2/library/alpine/manifests/3',
      },
      { clock: createManualClock(), attempt: 0, retries: [] },
    );
    const [entry] = log.entries;
    expect(entry?.rateLimit).toEqual({
      resource: 'docker-pulls',
      limit: 100,
      remaining: 97,
      windowSeconds: 21_600,
    });
    const line = entry === undefined ? '' : formatRequestLogEntry(entry);
    expect(line).toBe(
      'GET https://registry-1.docker.io/v2/library/alpine/manifests/3 → 200 (0 ms) manifests.get; rate limit docker-pulls: 97/100 left per 6h',
    );
    expect(JSON.stringify(log.entries)).not.toContain('203.0.113.7');
  });

  it("shows GitHub's budget, and nothing when a response carries none", async () => {
    const log = createRequestLog({ secrets: () => [] });
    const context = { clock: createManualClock(), attempt: 0, retries: [] };
    const request = {
      operation: 'versions.list',
      method: 'GET',
      url: 'https://api.github.com/user/packages',
    };
    await log.middleware(async () =>
      answer({
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        'x-ratelimit-reset': '1767272400',
      }),
    )(request, context);
    await log.middleware(async () => answer({}))(request, context);
    expect(log.entries.map(formatRequestLogEntry)).toEqual([
      'GET https://api.github.com/user/packages → 200 (0 ms) versions.list; rate limit core: 4999/5000 left',
      'GET https://api.github.com/user/packages → 200 (0 ms) versions.list',
    ]);
  });
});
