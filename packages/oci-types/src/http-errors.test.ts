import { describe, expect, it } from 'vitest';
import { definedProps } from './defined-props.js';
import {
  AuthenticationError,
  AuthorizationError,
  type GhcrError,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ResourceConflictError,
  ServerError,
  TransportError,
} from './errors.js';
import {
  errorFromResponse,
  type FailedResponse,
  MAX_ERROR_BODY_BYTES,
  RETRYABLE_STATUSES,
} from './http-errors.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const MANIFEST_URL = 'https://ghcr.io/v2/octo/app/manifests/latest';

function failed(overrides: Partial<FailedResponse> & Pick<FailedResponse, 'status'>): GhcrError {
  return errorFromResponse({ method: 'GET', url: MANIFEST_URL, headers: {}, now: NOW, ...overrides });
}

const distributionBody = (code: string, message?: string, detail?: unknown): string =>
  JSON.stringify({
    errors: [{ code, ...definedProps({ message }), ...definedProps({ detail }) }],
  });

describe('errorFromResponse: status → class', () => {
  const table: readonly {
    status: number;
    body?: string;
    cls: typeof GhcrError;
    code: string;
    retryable: boolean;
    method?: string;
  }[] = [
    {
      status: 401,
      body: distributionBody('UNAUTHORIZED', 'authentication required'),
      cls: AuthenticationError,
      code: 'UNAUTHORIZED',
      retryable: false,
    },
    { status: 401, cls: AuthenticationError, code: 'GHCR_UNAUTHORIZED', retryable: false },
    {
      status: 403,
      body: distributionBody('DENIED', 'permission_denied: write_package'),
      cls: AuthorizationError,
      code: 'DENIED',
      retryable: false,
    },
    { status: 403, cls: AuthorizationError, code: 'GHCR_FORBIDDEN', retryable: false },
    {
      status: 404,
      body: distributionBody('MANIFEST_UNKNOWN', 'manifest unknown'),
      cls: NotFoundError,
      code: 'MANIFEST_UNKNOWN',
      retryable: false,
    },
    { status: 404, cls: NotFoundError, code: 'GHCR_NOT_FOUND', retryable: false },
    {
      // GHCR's answer to a registry DELETE, byte for byte (ghcr-facts §2).
      status: 405,
      method: 'DELETE',
      body: '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}',
      cls: ProtocolError,
      code: 'UNSUPPORTED',
      retryable: false,
    },
    { status: 408, cls: TransportError, code: 'GHCR_TIMEOUT', retryable: true },
    { status: 409, cls: ResourceConflictError, code: 'GHCR_CONFLICT', retryable: false },
    {
      status: 413,
      body: distributionBody('SIZE_INVALID', 'manifest too big'),
      cls: ProtocolError,
      code: 'SIZE_INVALID',
      retryable: false,
    },
    { status: 413, cls: ProtocolError, code: 'GHCR_UNEXPECTED_RESPONSE', retryable: false },
    {
      status: 416,
      body: 'the request body is too large and exceeds the maximum permissible limit of 4.00MiB',
      cls: ProtocolError,
      code: 'GHCR_UNEXPECTED_RESPONSE',
      retryable: false,
    },
    { status: 429, cls: RateLimitError, code: 'GHCR_RATE_LIMITED', retryable: true },
    { status: 500, cls: ServerError, code: 'GHCR_SERVER_ERROR', retryable: true },
    { status: 501, cls: ServerError, code: 'GHCR_SERVER_ERROR', retryable: false },
    { status: 502, cls: ServerError, code: 'GHCR_SERVER_ERROR', retryable: true },
    {
      status: 503,
      body: 'Egress is over the account limit.',
      cls: ServerError,
      code: 'GHCR_SERVICE_UNAVAILABLE',
      retryable: true,
    },
    { status: 504, cls: ServerError, code: 'GHCR_SERVER_ERROR', retryable: true },
    {
      status: 400,
      body: distributionBody('MANIFEST_INVALID', 'manifest invalid'),
      cls: ProtocolError,
      code: 'MANIFEST_INVALID',
      retryable: false,
    },
    {
      status: 400,
      body: '{"message":"You cannot delete the last version of a package."}',
      cls: InvalidInputError,
      code: 'GHCR_BAD_REQUEST',
      retryable: false,
    },
    { status: 418, cls: ProtocolError, code: 'GHCR_UNEXPECTED_RESPONSE', retryable: false },
  ];

  it.each(table)('$status $code', (row) => {
    const error = failed({
      status: row.status,
      ...definedProps({ body: row.body }),
      method: row.method ?? 'GET',
    });
    expect(row.cls.isInstance(error)).toBe(true);
    expect(error.name).toBe(row.cls.errorName);
    expect(error.code).toBe(row.code);
    expect(error.isRetryable).toBe(row.retryable);
    expect(error.http?.status).toBe(row.status);
    expect(error.http?.method).toBe(row.method ?? 'GET');
    expect(error.message).toMatch(
      new RegExp(
        `^${row.method ?? 'GET'} "https://ghcr\\.io/v2/octo/app/manifests/latest": status ${row.status}: `,
      ),
    );
  });

  it('formats the message as METHOD "<url>": status N: <status text>: <detail>', () => {
    const error = failed({
      status: 404,
      body: distributionBody('MANIFEST_UNKNOWN', 'manifest unknown', { Tag: 'latest' }),
    });
    expect(error.message).toBe(
      'GET "https://ghcr.io/v2/octo/app/manifests/latest": status 404: not found: manifest unknown',
    );
    expect(failed({ status: 404 }).message).toBe(
      'GET "https://ghcr.io/v2/octo/app/manifests/latest": status 404: not found',
    );
  });

  it('reproduces the exact message for GHCR’s refused DELETE', () => {
    const error = errorFromResponse({
      method: 'DELETE',
      url: 'https://ghcr.io/v2/octo/app/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000',
      status: 405,
      headers: {},
      body: '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}',
    });
    expect(error.message).toBe(
      'DELETE "https://ghcr.io/v2/octo/app/manifests/sha256:0000000000000000000000000000000000000000000000000000000000000000": status 405: method not allowed: The operation is unsupported.',
    );
    expect(error.http?.registryErrors).toEqual([
      { code: 'UNSUPPORTED', message: 'The operation is unsupported.' },
    ]);
  });
});

describe('errorFromResponse: bodies', () => {
  it('keeps a distribution error body with the spec spelling of its codes', () => {
    const body = JSON.stringify({
      errors: [
        { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:abc' } },
        { code: 'NAME_UNKNOWN' },
      ],
    });
    const error = failed({ status: 404, body });
    expect(error.code).toBe('BLOB_UNKNOWN');
    expect(error.http?.registryErrors).toEqual([
      { code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: { digest: 'sha256:abc' } },
      { code: 'NAME_UNKNOWN' },
    ]);
    // Entries without a message contribute their code in words.
    expect(error.message).toMatch(/: not found: blob unknown to registry; name unknown$/);
  });

  it('keeps a non-spec registry code on the context but uses a GHCR_ code for the error', () => {
    const error = failed({ status: 404, body: distributionBody('SOMETHING_ELSE', 'odd') });
    expect(error.code).toBe('GHCR_NOT_FOUND');
    expect(error.http?.registryErrors?.[0]?.code).toBe('SOMETHING_ELSE');
  });

  it('survives malformed entries', () => {
    const error = failed({ status: 400, body: '{"errors":[null, 7, {"code": 5, "message": 3}]}' });
    expect(error.http?.registryErrors).toEqual([{ code: 'UNKNOWN' }]);
    expect(ProtocolError.isInstance(error)).toBe(true);
  });

  it('reads a GitHub REST API body (message + documentation_url) and the request id', () => {
    const error = errorFromResponse({
      method: 'DELETE',
      url: 'https://api.github.com/orgs/octo/packages/container/app/versions/1',
      status: 404,
      headers: { 'x-github-request-id': 'ABCD:1234' },
      body: JSON.stringify({
        message: 'Package not found.',
        documentation_url:
          'https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization',
        status: '404',
      }),
    });
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(error.http?.apiMessage).toBe('Package not found.');
    expect(error.http?.documentationUrl).toBe(
      'https://docs.github.com/rest/packages/packages#delete-package-version-for-an-organization',
    );
    expect(error.http?.requestId).toBe('ABCD:1234');
    expect(error.http).not.toHaveProperty('registryErrors');
    expect(error.message).toBe(
      'DELETE "https://api.github.com/orgs/octo/packages/container/app/versions/1": status 404: not found: Package not found.',
    );
  });

  it('says what to do after a 5xx, with the attempts made, and keeps Retry-After (all methods)', () => {
    const error = failed({ status: 503, attempts: 4, headers: { 'retry-after': '7' } });
    expect(error.message).toMatch(
      /status 503: service unavailable; the registry is failing \(4 attempts\): retry later$/,
    );
    expect(error).toMatchObject({ code: 'GHCR_SERVICE_UNAVAILABLE', isRetryable: true, retryAfterMs: 7000 });
  });

  it('decides retryability from the one RETRYABLE_STATUSES set (408 included)', () => {
    for (const status of [408, 500, 502, 503, 504]) {
      expect(RETRYABLE_STATUSES.has(status)).toBe(true);
      expect(failed({ status }).isRetryable).toBe(true);
    }
    for (const status of [501, 505, 400, 404]) {
      expect(RETRYABLE_STATUSES.has(status)).toBe(false);
      expect(failed({ status }).isRetryable).toBe(false);
    }
    expect(failed({ status: 408 })).toMatchObject({ code: 'GHCR_TIMEOUT', connected: true });
  });

  it('falls back to x-request-id, and takes the first value of a repeated header', () => {
    expect(failed({ status: 500, headers: { 'x-request-id': ['one', 'two'] } }).http?.requestId).toBe('one');
  });

  it('puts a non-JSON body into the message, trimmed', () => {
    const error = failed({ status: 502, body: '  <html>Bad Gateway</html>\n' });
    expect(error.message).toMatch(
      /: status 502: bad gateway: <html>Bad Gateway<\/html>; the registry is failing: retry later$/,
    );
    expect(error.http).not.toHaveProperty('apiMessage');
  });

  it('treats JSON that is not an object (and an empty body) as no detail', () => {
    expect(failed({ status: 404, body: '   ' }).message).toMatch(/status 404: not found$/);
    expect(failed({ status: 404, body: '"just a string"' }).message).toMatch(
      /status 404: not found: "just a string"$/,
    );
    expect(failed({ status: 404, body: '{}' }).message).toMatch(/status 404: not found$/);
  });

  it(`reads at most ${MAX_ERROR_BODY_BYTES} bytes of a body`, () => {
    const body = `${'x'.repeat(MAX_ERROR_BODY_BYTES)}TAIL-MARKER${'y'.repeat(10_000)}`;
    const error = failed({ status: 500, body });
    expect(error.message).not.toContain('TAIL-MARKER');
    expect(error.message).not.toContain('yyy');
    expect(error.message.length).toBeLessThan(MAX_ERROR_BODY_BYTES + 200);
    // A JSON body longer than the cap is cut, so it is no longer JSON: no crash, the text is kept.
    const longJson = distributionBody('MANIFEST_INVALID', 'm'.repeat(MAX_ERROR_BODY_BYTES * 2));
    const cut = failed({ status: 400, body: longJson });
    expect(cut.code).toBe('GHCR_BAD_REQUEST');
    expect(cut.message.length).toBeLessThan(MAX_ERROR_BODY_BYTES + 200);
  });
});

describe('errorFromResponse: rate limits', () => {
  it("turns Docker Hub's quota 429 into an error saying what is left, when it frees up and what to do", () => {
    const error = errorFromResponse({
      method: 'GET',
      url: 'https://registry-1.docker.io/v2/library/alpine/manifests/3',
      status: 429,
      headers: {
        'ratelimit-limit': '100;w=21600',
        'ratelimit-remaining': '0;w=21600',
        'docker-ratelimit-source': '203.0.113.7',
      },
      now: NOW,
      body: distributionBody(
        'TOOMANYREQUESTS',
        'You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit',
      ),
    });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.code).toBe('GHCR_PULL_QUOTA_EXCEEDED');
    expect(error.isRetryable).toBe(false);
    expect(error).toMatchObject({ remaining: 0, limit: 100, resetAt: NOW + 21_600_000 });
    expect(error.message).toBe(
      'GET "https://registry-1.docker.io/v2/library/alpine/manifests/3": status 429: too many requests: ' +
        'You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit. ' +
        'Docker Hub pull quota: 0 of 100 pulls left per 6-hour window (each manifest GET counts, HEADs do not); ' +
        'they free up as the 6-hour window slides, all of them by 2026-01-01T18:00:00.000Z. ' +
        'Log in for a larger quota (ghcr login docker.io), or pull through a mirror (a pull-through cache, or a copy in a registry of your own)',
    );
    // The source is an address or an account id: never in the message.
    expect(error.message).not.toContain('203.0.113.7');
    expect(JSON.stringify(error.toJSON())).not.toContain('203.0.113.7');
  });

  it('takes the window from w= and names the host to log in to when it is not Hub', () => {
    const error = errorFromResponse({
      method: 'GET',
      url: 'http://127.0.0.1:5000/v2/library/alpine/manifests/3',
      status: 429,
      headers: { 'ratelimit-limit': '3;w=600', 'ratelimit-remaining': '0;w=600' },
      now: NOW,
      body: distributionBody('TOOMANYREQUESTS', 'You have reached your unauthenticated pull rate limit.'),
    });
    expect(error.code).toBe('GHCR_PULL_QUOTA_EXCEEDED');
    expect(error.isRetryable).toBe(true);
    expect(error.message).toContain('0 of 3 pulls left per 10-minute window');
    expect(error.message).toContain('2026-01-01T12:10:00.000Z');
    expect(error.message).toContain('ghcr login 127.0.0.1:5000');
  });

  it('treats a plain 429 from Hub (the abuse limit, no quota headers) as an ordinary rate limit', () => {
    const error = errorFromResponse({
      method: 'GET',
      url: 'https://registry-1.docker.io/v2/library/alpine/manifests/3',
      status: 429,
      headers: {},
      now: NOW,
      body: 'Too Many Requests',
    });
    expect(error.code).toBe('GHCR_RATE_LIMITED');
  });

  it('recognises GitHub’s 403 secondary rate limit', () => {
    const error = errorFromResponse({
      method: 'DELETE',
      url: 'https://api.github.com/user/packages/container/app/versions/9',
      status: 403,
      headers: {},
      now: NOW,
      body: JSON.stringify({
        message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        documentation_url:
          'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      }),
    });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(AuthorizationError.isInstance(error)).toBe(false);
    expect(error.code).toBe('GHCR_SECONDARY_RATE_LIMITED');
    expect(error.isRetryable).toBe(true);
  });

  it('recognises the secondary limit on a 429 too, and on a registry error body', () => {
    const api = failed({ status: 429, body: '{"message":"You have exceeded a secondary rate limit."}' });
    expect(api.code).toBe('GHCR_SECONDARY_RATE_LIMITED');
    const registry = failed({
      status: 403,
      body: distributionBody('DENIED', 'You have exceeded a secondary rate limit'),
    });
    expect(RateLimitError.isInstance(registry)).toBe(true);
    expect(registry.code).toBe('GHCR_SECONDARY_RATE_LIMITED');
  });

  it('turns a 403 with x-ratelimit-remaining 0 into a primary rate limit with its reset time', () => {
    const reset = NOW / 1000 + 600;
    const error = failed({
      status: 403,
      headers: {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-reset': String(reset),
      },
      body: '{"message":"API rate limit exceeded for user ID 1."}',
    });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.code).toBe('GHCR_RATE_LIMITED');
    expect((error as RateLimitError).resetAt).toBe(reset * 1000);
    expect((error as RateLimitError).retryAfterMs).toBeUndefined();
  });

  it('keeps a 403 with remaining budget an authorization error', () => {
    const error = failed({ status: 403, headers: { 'x-ratelimit-remaining': '12' } });
    expect(AuthorizationError.isInstance(error)).toBe(true);
  });

  it('reads GHCR’s wait hint from a 429 body: 880.092µs → 1 ms', () => {
    // As a plain-text body …
    const text = failed({
      status: 429,
      body: 'toomanyrequests: retry-after: 880.092µs, allowed: 44000/minute',
    });
    expect(RateLimitError.isInstance(text)).toBe(true);
    expect((text as RateLimitError).retryAfterMs).toBe(1);
    expect(text.message).toContain('retry-after: 880.092µs, allowed: 44000/minute');
    // … and as a distribution error body.
    const json = failed({
      status: 429,
      body: distributionBody('TOOMANYREQUESTS', 'retry-after: 880.092µs, allowed: 44000/minute'),
    });
    expect(json.code).toBe('TOOMANYREQUESTS');
    expect((json as RateLimitError).retryAfterMs).toBe(1);
  });

  it('reads the upload limit hint: 10.305464ms → 11 ms', () => {
    const error = failed({
      status: 429,
      method: 'POST',
      body: distributionBody('TOOMANYREQUESTS', 'retry-after: 10.305464ms, allowed: 2000/minute'),
    });
    expect((error as RateLimitError).retryAfterMs).toBe(11);
  });

  it('maps TOOMANYREQUESTS to a rate limit whatever the status', () => {
    const error = failed({ status: 403, body: distributionBody('TOOMANYREQUESTS', 'slow down') });
    expect(RateLimitError.isInstance(error)).toBe(true);
    expect(error.code).toBe('TOOMANYREQUESTS');
  });

  it('prefers the Retry-After header, in seconds', () => {
    const error = failed({ status: 429, headers: { 'retry-after': '120' }, body: 'retry-after: 5ms' });
    expect((error as RateLimitError).retryAfterMs).toBe(120_000);
  });

  it('reads Retry-After as an HTTP date, relative to the given now', () => {
    const date = new Date(NOW + 30_000).toUTCString();
    const error = failed({ status: 503, headers: { 'retry-after': date } });
    expect(ServerError.isInstance(error)).toBe(true);
    const limited = failed({ status: 429, headers: { 'retry-after': date } });
    expect((limited as RateLimitError).retryAfterMs).toBe(30_000);
    const past = failed({ status: 429, headers: { 'retry-after': new Date(NOW - 5_000).toUTCString() } });
    expect((past as RateLimitError).retryAfterMs).toBe(0);
  });

  it('leaves retryAfterMs out when nothing says how long', () => {
    const error = failed({ status: 429, body: 'slow down' });
    expect(error).not.toHaveProperty('retryAfterMs');
  });
});

describe('errorFromResponse: secrets', () => {
  const token = 'ghp_S3cretTokenValue1234567890';
  const signed =
    'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:abc?se=2026-01-01T00%3A10%3A00Z&sig=AzureSignatureValue%3D&sv=2019-12-12';

  it('redacts a signed URL in the message and the context', () => {
    const error = errorFromResponse({
      method: 'GET',
      url: signed,
      status: 403,
      headers: {},
      body: 'AuthenticationFailed',
    });
    const everything = `${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.http)}`;
    expect(everything).not.toContain('AzureSignatureValue');
    expect(error.http?.url).toContain('sig=REDACTED');
    expect(error.message).toContain('sig=REDACTED');
    expect(error.message).toContain('se=2026-01-01T00%3A10%3A00Z');
  });

  it('never repeats a secret from the body in the message or the HTTP context', () => {
    const body = JSON.stringify({
      errors: [
        {
          code: 'DENIED',
          message: `token ${token} is not allowed; see ${signed}`,
          detail: { token, nested: [`Bearer ${token}`, { url: signed }] },
        },
      ],
      message: `bad credentials ${token}`,
      documentation_url: `https://docs.github.com/x?access_token=${token}`,
    });
    const error = errorFromResponse({
      method: 'PUT',
      url: `https://ghcr.io/v2/o/n/blobs/uploads/1?digest=sha256:abc&token=${token}`,
      status: 403,
      headers: {},
      body,
      secrets: [token],
    });
    const everything = `${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.http)}`;
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('AzureSignatureValue');
    expect(error.http?.registryErrors?.[0]?.message).toContain('REDACTED');
    expect(error.http?.apiMessage).toBe('bad credentials REDACTED');
    expect(error.http?.documentationUrl).toBe('https://docs.github.com/x?access_token=REDACTED');
    expect(error.code).toBe('DENIED');
  });

  it('scrubs a secret passed in `secrets` from a plain-text body and the URL path', () => {
    const error = errorFromResponse({
      method: 'GET',
      url: `https://registry.example/v2/${token}/manifests/x`,
      status: 500,
      headers: {},
      body: `internal error while checking ${token}`,
      secrets: new Set([token]),
    });
    expect(error.message).not.toContain(token);
    expect(error.http?.url).not.toContain(token);
    expect(error.message).toContain('internal error while checking REDACTED');
  });

  it('redacts bearer credentials even when the caller did not name them', () => {
    const error = failed({
      status: 401,
      body: distributionBody('UNAUTHORIZED', 'invalid Authorization: Bearer abcdefghijklmnop'),
    });
    expect(error.message).not.toContain('abcdefghijklmnop');
    expect(JSON.stringify(error.http)).not.toContain('abcdefghijklmnop');
  });
});
