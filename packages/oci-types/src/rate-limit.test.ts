import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeDockerHubQuota,
  parseDockerHubRateLimitHeaders,
  parseRateLimitHeaders,
  parseRetryAfterHeader,
  parseRetryAfterInMessage,
  rateLimitInfoSchema,
} from './rate-limit.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('parseRateLimitHeaders', () => {
  it('reads GitHub’s x-ratelimit-* headers', () => {
    const info = parseRateLimitHeaders({
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4987',
      'x-ratelimit-used': '13',
      'x-ratelimit-reset': '1767272400',
      'x-ratelimit-resource': 'core',
    });
    expect(info).toEqual({
      limit: 5000,
      remaining: 4987,
      used: 13,
      resetAt: 1_767_272_400_000,
      resource: 'core',
    });
    expect(rateLimitInfoSchema.parse(info)).toEqual(info);
  });

  it('defaults the resource to core and leaves out a missing or malformed used', () => {
    const info = parseRateLimitHeaders({
      'x-ratelimit-limit': '60',
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': '100',
      'x-ratelimit-used': 'many',
    });
    expect(info).toEqual({ limit: 60, remaining: 0, resetAt: 100_000, resource: 'core' });
    expect(info).not.toHaveProperty('used');
  });

  it('takes the first value of a repeated header', () => {
    const info = parseRateLimitHeaders({
      'x-ratelimit-limit': ['1000', '2000'],
      'x-ratelimit-remaining': ['5'],
      'x-ratelimit-reset': '1',
      'x-ratelimit-resource': ['graphql'],
    });
    expect(info).toMatchObject({ limit: 1000, remaining: 5, resource: 'graphql' });
  });

  it.each([
    ['no headers', {}],
    ['no reset', { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '1' }],
    ['no limit', { 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '1' }],
    ['no remaining', { 'x-ratelimit-limit': '1', 'x-ratelimit-reset': '1' }],
    [
      'a negative value',
      { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '-1', 'x-ratelimit-reset': '1' },
    ],
    ['a fraction', { 'x-ratelimit-limit': '1.5', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '1' }],
    ['text', { 'x-ratelimit-limit': 'lots', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '1' }],
    ['an empty value', { 'x-ratelimit-limit': '', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '1' }],
  ])('returns undefined with %s', (_what, headers) => {
    expect(parseRateLimitHeaders(headers)).toBeUndefined();
  });

  it('the schema refuses negative or fractional counts', () => {
    const base = { limit: 1, remaining: 1, resetAt: 1, resource: 'core' };
    expect(rateLimitInfoSchema.safeParse(base).success).toBe(true);
    expect(rateLimitInfoSchema.safeParse({ ...base, remaining: -1 }).success).toBe(false);
    expect(rateLimitInfoSchema.safeParse({ ...base, limit: 1.5 }).success).toBe(false);
    expect(rateLimitInfoSchema.safeParse({ limit: 1, remaining: 1, resetAt: 1 }).success).toBe(false);
  });
});

describe("Docker Hub's pull-quota headers", () => {
  it('reads ratelimit-limit/-remaining with the window from w= and docker-ratelimit-source', () => {
    const headers = {
      'ratelimit-limit': '100;w=21600',
      'ratelimit-remaining': '97;w=21600',
      'docker-ratelimit-source': '203.0.113.7',
    };
    const info = parseDockerHubRateLimitHeaders(headers, NOW);
    expect(info).toEqual({
      limit: 100,
      remaining: 97,
      resetAt: NOW + 21_600_000,
      resource: 'docker-pulls',
      windowMs: 21_600_000,
      source: '203.0.113.7',
    });
    expect(rateLimitInfoSchema.parse(info)).toEqual(info);
    expect(parseRateLimitHeaders(headers, NOW)).toEqual(info);
  });

  it('never assumes the window: an hourly w= gives an hour, and no w= gives no window', () => {
    expect(
      parseDockerHubRateLimitHeaders(
        { 'ratelimit-limit': '40;w=3600', 'ratelimit-remaining': '40;w=3600' },
        NOW,
      ),
    ).toMatchObject({ limit: 40, remaining: 40, windowMs: 3_600_000, resetAt: NOW + 3_600_000 });
    const bare = parseDockerHubRateLimitHeaders(
      { 'ratelimit-limit': '100', 'ratelimit-remaining': '5' },
      NOW,
    );
    expect(bare).toEqual({ limit: 100, remaining: 5, resetAt: NOW, resource: 'docker-pulls' });
    // The older "limit, limit;w=window" form.
    expect(
      parseDockerHubRateLimitHeaders(
        { 'ratelimit-limit': '100, 100;w=21600', 'ratelimit-remaining': '7, 7;w=21600' },
        NOW,
      ),
    ).toMatchObject({ limit: 100, remaining: 7, windowMs: 21_600_000 });
  });

  it('returns undefined without both headers (Hub sends none for unlimited accounts) or with garbage', () => {
    expect(parseDockerHubRateLimitHeaders({}, NOW)).toBeUndefined();
    expect(parseDockerHubRateLimitHeaders({ 'ratelimit-limit': '100;w=21600' }, NOW)).toBeUndefined();
    expect(
      parseDockerHubRateLimitHeaders({ 'ratelimit-limit': 'many', 'ratelimit-remaining': '1;w=5' }, NOW),
    ).toBeUndefined();
  });

  it('describes a quota without its source', () => {
    const info = parseDockerHubRateLimitHeaders(
      {
        'ratelimit-limit': '100;w=21600',
        'ratelimit-remaining': '0;w=21600',
        'docker-ratelimit-source': 'x',
      },
      NOW,
    );
    if (info === undefined) throw new Error('no info');
    expect(describeDockerHubQuota(info, 'registry-1.docker.io')).toMatch(
      /^Docker Hub pull quota: 0 of 100 pulls left per 6-hour window .*ghcr login docker\.io/,
    );
  });
});

describe('parseRetryAfterHeader', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfterHeader('120', NOW)).toBe(120_000);
    expect(parseRetryAfterHeader(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfterHeader('1.5', NOW)).toBe(1500);
  });

  it('reads an IMF-fixdate relative to now', () => {
    expect(parseRetryAfterHeader('Thu, 01 Jan 2026 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfterHeader(new Date(NOW + 2_500).toUTCString(), NOW)).toBe(2_000); // second precision
  });

  it('reads the obsolete RFC 850 and asctime forms', () => {
    expect(parseRetryAfterHeader('Thursday, 01-Jan-26 12:00:30 GMT', NOW)).toBe(30_000);
    // asctime carries no zone, so only that it is read as a date is asserted.
    expect(parseRetryAfterHeader('Thu Jan  1 12:00:10 2026', NOW)).toBeTypeOf('number');
  });

  it('never returns a negative wait for a date in the past', () => {
    expect(parseRetryAfterHeader('Wed, 31 Dec 2025 00:00:00 GMT', NOW)).toBe(0);
  });

  it.each([undefined, '', 'soon', '-5', '1e3', '12abc', '3 4', '+5'])(
    'treats %j as absent or unparseable',
    (value) => {
      // "-5" and "3 4" matter: Date.parse would read them as dates in 2001.
      expect(parseRetryAfterHeader(value, NOW)).toBeUndefined();
    },
  );
});

describe('parseRetryAfterInMessage', () => {
  it.each([
    ['toomanyrequests: retry-after: 880.092µs, allowed: 44000/minute', 1],
    ['TOOMANYREQUESTS: retry-after: 10.305464ms, allowed: 2000/minute', 11],
    ['retry-after: 880.092μs', 1], // Greek mu instead of the micro sign
    ['retry-after: 500us', 1],
    ['retry-after: 1500ns', 1],
    ['retry-after: 2s', 2000],
    ['Retry-After: 1.25s', 1250],
    ['retry-after: 1m30s', 90_000],
    ['retry-after: 1h2m3.5s', 3_723_500],
    ['retry-after:5ms', 5],
    ['retry-after: 0s', 0],
  ])('%s → %d ms', (message, ms) => {
    expect(parseRetryAfterInMessage(message)).toBe(ms);
  });

  it.each(['', 'slow down', 'retry-after: soon', 'retry-after: 30', 'retry after 5s'])(
    'finds no hint in %j',
    (message) => {
      expect(parseRetryAfterInMessage(message)).toBeUndefined();
    },
  );

  it('reads any Go duration of whole units (property)', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 23 }),
        fc.nat({ max: 59 }),
        fc.nat({ max: 59 }),
        fc.nat({ max: 999 }),
        (h, m, s, ms) => {
          const text = `retry-after: ${h}h${m}m${s}s${ms}ms, allowed: 1/minute`;
          expect(parseRetryAfterInMessage(text)).toBe(((h * 60 + m) * 60 + s) * 1000 + ms);
        },
      ),
    );
  });
});
