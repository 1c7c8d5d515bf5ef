import { describe, expect, it, vi } from 'vitest';
import {
  AuthenticationError,
  AuthorizationError,
  ConfigError,
  DigestMismatchError,
  DistributionErrorCode,
  type ErrorFamily,
  GhcrError,
  GhcrErrorCode,
  InternalError,
  InvalidInputError,
  InvalidManifestError,
  isErrorCode,
  isGhcrError,
  MissingHeaderError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  ResourceConflictError,
  ServerError,
  SimulationMismatchError,
  ThrottleTimeoutError,
  TransportError,
  UnsupportedMediaTypeError,
  UploadError,
} from './errors.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

/** One row per class: how to build it, and what it must say about itself. */
interface Row {
  readonly cls: typeof GhcrError;
  readonly make: (message: string) => GhcrError;
  readonly family: ErrorFamily;
  readonly code: string;
  readonly retryable: boolean;
  /** The classes it descends from, itself excluded, GhcrError included. */
  readonly ancestors: readonly (typeof GhcrError)[];
}

const rows: readonly Row[] = [
  {
    cls: GhcrError,
    make: (m) => new GhcrError(m),
    family: 'internal',
    code: 'GHCR_INTERNAL',
    retryable: false,
    ancestors: [],
  },
  {
    cls: AuthenticationError,
    make: (m) => new AuthenticationError(m),
    family: 'authentication',
    code: 'GHCR_UNAUTHORIZED',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: AuthorizationError,
    make: (m) => new AuthorizationError(m),
    family: 'authorization',
    code: 'GHCR_FORBIDDEN',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: NotFoundError,
    make: (m) => new NotFoundError(m),
    family: 'resource',
    code: 'GHCR_NOT_FOUND',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: ResourceConflictError,
    make: (m) => new ResourceConflictError(m),
    family: 'resource',
    code: 'GHCR_CONFLICT',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: RateLimitError,
    make: (m) => new RateLimitError(m),
    family: 'rate-limit',
    code: 'GHCR_RATE_LIMITED',
    retryable: true,
    ancestors: [GhcrError],
  },
  {
    cls: ThrottleTimeoutError,
    make: (m) => new ThrottleTimeoutError(m, { waitMs: 90_000 }),
    family: 'rate-limit',
    code: 'GHCR_THROTTLE_TIMEOUT',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: ProtocolError,
    make: (m) => new ProtocolError(m),
    family: 'protocol',
    code: 'GHCR_UNEXPECTED_RESPONSE',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: UnsupportedMediaTypeError,
    make: (m) => new UnsupportedMediaTypeError(m, { mediaType: 'text/html' }),
    family: 'protocol',
    code: 'GHCR_UNSUPPORTED_MEDIA_TYPE',
    retryable: false,
    ancestors: [ProtocolError, GhcrError],
  },
  {
    cls: InvalidManifestError,
    make: (m) => new InvalidManifestError(m),
    family: 'protocol',
    code: 'GHCR_INVALID_MANIFEST',
    retryable: false,
    ancestors: [ProtocolError, GhcrError],
  },
  {
    cls: DigestMismatchError,
    make: (m) => new DigestMismatchError(m, { expected: D1, actual: D2 }),
    family: 'protocol',
    code: 'GHCR_DIGEST_MISMATCH',
    retryable: false,
    ancestors: [ProtocolError, GhcrError],
  },
  {
    cls: InvalidInputError,
    make: (m) => new InvalidInputError(m),
    family: 'protocol',
    code: 'GHCR_BAD_REQUEST',
    retryable: false,
    ancestors: [ProtocolError, GhcrError],
  },
  {
    cls: MissingHeaderError,
    make: (m) => new MissingHeaderError(m, { header: 'location' }),
    family: 'protocol',
    code: 'GHCR_MISSING_HEADER',
    retryable: false,
    ancestors: [ProtocolError, GhcrError],
  },
  {
    cls: UploadError,
    make: (m) => new UploadError(m),
    family: 'upload',
    code: 'GHCR_UPLOAD_FAILED',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: ServerError,
    make: (m) => new ServerError(m),
    family: 'server',
    code: 'GHCR_SERVER_ERROR',
    retryable: true,
    ancestors: [GhcrError],
  },
  {
    cls: TransportError,
    make: (m) => new TransportError(m),
    family: 'transport',
    code: 'GHCR_CONNECTION_FAILED',
    retryable: true,
    ancestors: [GhcrError],
  },
  {
    cls: ConfigError,
    make: (m) => new ConfigError(m),
    family: 'internal',
    code: 'GHCR_CONFIG',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: SimulationMismatchError,
    make: (m) => new SimulationMismatchError(m),
    family: 'internal',
    code: 'GHCR_SIMULATION_MISMATCH',
    retryable: false,
    ancestors: [GhcrError],
  },
  {
    cls: InternalError,
    make: (m) => new InternalError(m),
    family: 'internal',
    code: 'GHCR_INTERNAL',
    retryable: false,
    ancestors: [GhcrError],
  },
];

const allClasses = rows.map((row) => row.cls);

describe('every error class', () => {
  it.each(rows)('$cls.errorName: family, default code, retryability, name', (row) => {
    const error = row.make('boom');
    expect(error.family).toBe(row.family);
    expect(error.code).toBe(row.code);
    expect(error.isRetryable).toBe(row.retryable);
    expect(error.name).toBe(row.cls.errorName);
    expect(error.message).toBe('boom');
    // The statics agree with the instance, so tooling can read them without constructing.
    expect(row.cls.family).toBe(row.family);
    expect(row.cls.defaultCode).toBe(row.code);
    expect(row.cls.defaultRetryable).toBe(row.retryable);
    expect(error).toBeInstanceOf(Error);
  });

  it('has a distinct brand name per class', () => {
    const names = allClasses.map((cls) => cls.errorName);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(rows)('$cls.errorName.isInstance holds for itself and its ancestors only', (row) => {
    const error = row.make('x');
    expect(row.cls.isInstance(error)).toBe(true);
    for (const ancestor of row.ancestors) expect(ancestor.isInstance(error)).toBe(true);
    const related = new Set<typeof GhcrError>([row.cls, ...row.ancestors]);
    for (const other of allClasses) {
      if (!related.has(other))
        expect(other.isInstance(error), `${other.errorName} on ${row.cls.errorName}`).toBe(false);
    }
  });

  it('overrides code and retryability when told', () => {
    const error = new ServerError('x', { code: GhcrErrorCode.SERVICE_UNAVAILABLE, isRetryable: false });
    expect(error.code).toBe('GHCR_SERVICE_UNAVAILABLE');
    expect(error.isRetryable).toBe(false);
    const notFound = new NotFoundError('x', { code: DistributionErrorCode.MANIFEST_UNKNOWN });
    expect(notFound.code).toBe('MANIFEST_UNKNOWN');
    expect(new AuthenticationError('x', { isRetryable: true }).isRetryable).toBe(true);
  });

  it('keeps the subclass-specific fields', () => {
    expect(new AuthorizationError('x', { scope: 'repository:o/n:push' }).scope).toBe('repository:o/n:push');
    expect(new NotFoundError('x', { resource: 'manifest ghcr.io/o/n:1' }).resource).toBe(
      'manifest ghcr.io/o/n:1',
    );
    const rate = new RateLimitError('x', { retryAfterMs: 1500, resetAt: 1_700_000_000_000 });
    expect([rate.retryAfterMs, rate.resetAt]).toEqual([1500, 1_700_000_000_000]);
    expect(new ThrottleTimeoutError('x', { waitMs: 42 }).waitMs).toBe(42);
    expect(new UnsupportedMediaTypeError('x', { mediaType: 'a/b' }).mediaType).toBe('a/b');
    expect(new InvalidManifestError('x', { field: 'layers.0.digest' }).field).toBe('layers.0.digest');
    const mismatch = new DigestMismatchError('x', { expected: D1, actual: D2 });
    expect([mismatch.expected, mismatch.actual]).toEqual([D1, D2]);
    expect(new InvalidInputError('x', { input: 'Bad' }).input).toBe('Bad');
    expect(new MissingHeaderError('x', { header: 'docker-content-digest' }).header).toBe(
      'docker-content-digest',
    );
    const upload = new UploadError('x', { code: GhcrErrorCode.CHUNK_FAILED, offset: 4096, digest: D1 });
    expect([upload.code, upload.offset, upload.digest]).toEqual(['GHCR_CHUNK_FAILED', 4096, D1]);
    expect(new ConfigError('x', { field: 'retry.maxRetries' }).field).toBe('retry.maxRetries');
    expect(new SimulationMismatchError('x', { closest: 'GET /v2/' }).closest).toBe('GET /v2/');
  });

  it('leaves optional fields absent rather than undefined-valued', () => {
    const error = new NotFoundError('x');
    expect('resource' in error).toBe(false);
    expect('http' in error).toBe(false);
    expect(Object.keys(new RateLimitError('x'))).not.toContain('retryAfterMs');
  });
});

describe('the seed taxonomy (§6.1)', () => {
  // Every case of the seed's taxonomy has a class and a stable code.
  const cases: readonly [string, GhcrError, ErrorFamily, string][] = [
    [
      'AuthFailed',
      new AuthenticationError('x', { code: GhcrErrorCode.AUTH_FAILED }),
      'authentication',
      'GHCR_AUTH_FAILED',
    ],
    ['Unauthorized', new AuthenticationError('x'), 'authentication', 'GHCR_UNAUTHORIZED'],
    [
      'TokenExpired',
      new AuthenticationError('x', { code: GhcrErrorCode.TOKEN_EXPIRED }),
      'authentication',
      'GHCR_TOKEN_EXPIRED',
    ],
    [
      'Forbidden',
      new AuthorizationError('x', { scope: 'repository:o/n:push' }),
      'authorization',
      'GHCR_FORBIDDEN',
    ],
    [
      'VulnDataNotAvailable',
      new AuthorizationError('x', { code: GhcrErrorCode.VULN_DATA_NOT_AVAILABLE }),
      'authorization',
      'GHCR_VULN_DATA_NOT_AVAILABLE',
    ],
    ['NotFound', new NotFoundError('x'), 'resource', 'GHCR_NOT_FOUND'],
    [
      'ManifestNotFound',
      new NotFoundError('x', { code: DistributionErrorCode.MANIFEST_UNKNOWN }),
      'resource',
      'MANIFEST_UNKNOWN',
    ],
    [
      'BlobNotFound',
      new NotFoundError('x', { code: DistributionErrorCode.BLOB_UNKNOWN }),
      'resource',
      'BLOB_UNKNOWN',
    ],
    ['RateLimited', new RateLimitError('x', { resetAt: 1 }), 'rate-limit', 'GHCR_RATE_LIMITED'],
    ['ThrottleTimeout', new ThrottleTimeoutError('x', { waitMs: 1 }), 'rate-limit', 'GHCR_THROTTLE_TIMEOUT'],
    [
      'UnsupportedMediaType',
      new UnsupportedMediaTypeError('x', { mediaType: 'a/b' }),
      'protocol',
      'GHCR_UNSUPPORTED_MEDIA_TYPE',
    ],
    ['InvalidManifest', new InvalidManifestError('x'), 'protocol', 'GHCR_INVALID_MANIFEST'],
    [
      'DigestMismatch',
      new DigestMismatchError('x', { expected: D1, actual: D2 }),
      'protocol',
      'GHCR_DIGEST_MISMATCH',
    ],
    ['MissingHeader', new MissingHeaderError('x', { header: 'location' }), 'protocol', 'GHCR_MISSING_HEADER'],
    ['UploadFailed', new UploadError('x'), 'upload', 'GHCR_UPLOAD_FAILED'],
    [
      'ChunkFailed',
      new UploadError('x', { code: GhcrErrorCode.CHUNK_FAILED, offset: 0 }),
      'upload',
      'GHCR_CHUNK_FAILED',
    ],
    [
      'MountFailed',
      new UploadError('x', { code: GhcrErrorCode.MOUNT_FAILED, digest: D1 }),
      'upload',
      'GHCR_MOUNT_FAILED',
    ],
    ['ServerError', new ServerError('x'), 'server', 'GHCR_SERVER_ERROR'],
    [
      'ServiceUnavailable',
      new ServerError('x', { code: GhcrErrorCode.SERVICE_UNAVAILABLE }),
      'server',
      'GHCR_SERVICE_UNAVAILABLE',
    ],
    ['ConfigError', new ConfigError('x'), 'internal', 'GHCR_CONFIG'],
    ['SimulationMismatch', new SimulationMismatchError('x'), 'internal', 'GHCR_SIMULATION_MISMATCH'],
    ['Internal', new InternalError('x'), 'internal', 'GHCR_INTERNAL'],
  ];
  it.each(cases)('%s', (_name, error, family, code) => {
    expect(GhcrError.isInstance(error)).toBe(true);
    expect(error.family).toBe(family);
    expect(error.code).toBe(code);
  });

  it('prefixes every own code with GHCR_ and keeps spec codes as the spec spells them', () => {
    for (const code of Object.values(GhcrErrorCode)) expect(code).toMatch(/^GHCR_[A-Z_]+$/);
    for (const [key, code] of Object.entries(DistributionErrorCode)) expect(code).toBe(key);
    expect(new Set(Object.values(GhcrErrorCode)).size).toBe(Object.values(GhcrErrorCode).length);
  });
});

describe('cause, HTTP context and JSON', () => {
  it('keeps the cause', () => {
    const low = new TypeError('socket hang up');
    const error = new TransportError('GET "https://ghcr.io/v2/": connection failed', { cause: low });
    expect(error.cause).toBe(low);
    expect(new TransportError('no cause')).not.toHaveProperty('cause');
  });

  it('keeps a non-Error cause', () => {
    expect(new ConfigError('x', { cause: { issues: [] } }).cause).toEqual({ issues: [] });
  });

  it('redacts the URL of its HTTP context', () => {
    const error = new NotFoundError('blob missing', {
      http: {
        method: 'GET',
        url: 'https://user:hunter22@pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:abc?se=2026&sig=S3CRETsig%3D&sv=1',
        status: 404,
      },
    });
    expect(error.http?.url).toBe(
      'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:abc?se=2026&sig=REDACTED&sv=1',
    );
    expect(JSON.stringify(error)).not.toContain('S3CRET');
    expect(JSON.stringify(error)).not.toContain('hunter22');
    expect(error.http?.status).toBe(404);
    expect(error.http?.method).toBe('GET');
  });

  it('does not mutate the caller’s HTTP context', () => {
    const http = { method: 'GET', url: 'https://x.io/a?token=abcdef', status: 401 };
    new AuthenticationError('x', { http });
    expect(http.url).toBe('https://x.io/a?token=abcdef');
  });

  it('serialises without a stack or a cause', () => {
    const error = new ServerError('GET "https://ghcr.io/v2/": status 502: bad gateway', {
      cause: new Error('inner'),
      http: { method: 'GET', url: 'https://ghcr.io/v2/', status: 502 },
    });
    const json = error.toJSON();
    expect(json).toEqual({
      name: 'ServerError',
      code: 'GHCR_SERVER_ERROR',
      family: 'server',
      message: 'GET "https://ghcr.io/v2/": status 502: bad gateway',
      isRetryable: true,
      http: { method: 'GET', url: 'https://ghcr.io/v2/', status: 502 },
    });
    const text = JSON.stringify(error);
    expect(text).not.toContain('stack');
    expect(text).not.toContain('inner');
    expect(text).not.toContain('    at ');
    expect(new InternalError('x').toJSON()).not.toHaveProperty('http');
  });
});

describe('branding across two copies of the package', () => {
  it('isInstance recognises errors from another module instance, where instanceof does not', async () => {
    vi.resetModules();
    const copy = (await import('./errors.js')) as typeof import('./errors.js');
    // A genuinely separate copy: its classes are different objects.
    expect(copy.GhcrError).not.toBe(GhcrError);

    const foreign = new copy.DigestMismatchError('x', { expected: D1, actual: D2 });
    expect(foreign instanceof GhcrError).toBe(false);
    expect(foreign instanceof DigestMismatchError).toBe(false);
    expect(GhcrError.isInstance(foreign)).toBe(true);
    expect(ProtocolError.isInstance(foreign)).toBe(true);
    expect(DigestMismatchError.isInstance(foreign)).toBe(true);
    expect(InvalidManifestError.isInstance(foreign)).toBe(false);
    expect(RateLimitError.isInstance(foreign)).toBe(false);

    // And the other way round.
    const local = new RateLimitError('x', { retryAfterMs: 5 });
    expect(local instanceof copy.RateLimitError).toBe(false);
    expect(copy.RateLimitError.isInstance(local)).toBe(true);
    expect(copy.GhcrError.isInstance(local)).toBe(true);
    expect(copy.ServerError.isInstance(local)).toBe(false);
  });

  it('rejects values that are not errors of the family', () => {
    for (const value of [
      null,
      undefined,
      0,
      'GhcrError',
      new Error('x'),
      { code: 'GHCR_INTERNAL' },
      () => {},
    ]) {
      expect(GhcrError.isInstance(value)).toBe(false);
    }
    // A plain Error with the right name is still not branded.
    const impostor = Object.assign(new Error('x'), { name: 'NotFoundError', code: 'GHCR_NOT_FOUND' });
    expect(NotFoundError.isInstance(impostor)).toBe(false);
  });

  it('uses registry-wide symbols, so the brand is the contract', () => {
    const error = new UploadError('x');
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('ghcr.error.UploadError')]).toBe(true);
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('ghcr.error.GhcrError')]).toBe(true);
    // Brands do not leak into enumeration or JSON.
    expect(
      Object.getOwnPropertySymbols(error).every(
        (s) => !Object.getOwnPropertyDescriptor(error, s)?.enumerable,
      ),
    ).toBe(true);
  });
});

describe('isGhcrError', () => {
  it.each(rows)('holds for $cls.errorName', (row) => {
    expect(isGhcrError(row.make('x'))).toBe(true);
  });

  it('holds for an error from another copy of the package, where instanceof does not', async () => {
    vi.resetModules();
    const copy = (await import('./errors.js')) as typeof import('./errors.js');
    expect(copy.isGhcrError).not.toBe(isGhcrError);
    const foreign = new copy.NotFoundError('x', { code: 'MANIFEST_UNKNOWN' });
    expect(foreign instanceof GhcrError).toBe(false);
    expect(isGhcrError(foreign)).toBe(true);
    expect(copy.isGhcrError(new ThrottleTimeoutError('x', { waitMs: 1 }))).toBe(true);
  });

  it('rejects lookalikes and non-errors', () => {
    const impostor = Object.assign(new Error('x'), { name: 'GhcrError', code: 'GHCR_INTERNAL' });
    for (const value of [
      null,
      undefined,
      0,
      'GhcrError',
      new Error('x'),
      impostor,
      { code: 'GHCR_NOT_FOUND' },
      () => {},
    ]) {
      expect(isGhcrError(value)).toBe(false);
    }
  });

  it('narrows to GhcrError, so code is typed', () => {
    const caught: unknown = new NotFoundError('x', { code: DistributionErrorCode.MANIFEST_UNKNOWN });
    if (!isGhcrError(caught)) throw new Error('expected a GhcrError');
    expect(caught.code).toBe('MANIFEST_UNKNOWN');
  });
});

describe('isErrorCode', () => {
  it('accepts every own and spec code and nothing else', () => {
    for (const code of [...Object.values(GhcrErrorCode), ...Object.values(DistributionErrorCode)]) {
      expect(isErrorCode(code), code).toBe(true);
    }
    for (const value of ['UND_ERR_SOCKET', 'ECONNRESET', 'ghcr_not_found', '', undefined, 404]) {
      expect(isErrorCode(value)).toBe(false);
    }
  });

  it('every default code of a class is one of them', () => {
    for (const row of rows) expect(isErrorCode(row.cls.defaultCode), row.cls.errorName).toBe(true);
  });
});
