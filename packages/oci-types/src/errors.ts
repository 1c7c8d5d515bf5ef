/**
 * The one error hierarchy of the `@ghcr/*` packages.
 *
 * Every error thrown by any package is a {@link GhcrError}: it has a stable `code` to match on, a
 * `family` (the seed architecture's taxonomy, §6.1), `isRetryable` decided once where the error is
 * made, the original failure as `cause`, and, for HTTP failures, an {@link HttpErrorContext} whose
 * URL is already redacted. Classes are branded with `Symbol.for('ghcr.error.<Name>')` so
 * `XError.isInstance(value)` works across two copies of this package, where `instanceof` does not.
 *
 * @packageDocumentation
 */

import { definedProps } from './defined-props.js';
import { redactUrl } from './redact.js';

/**
 * The families of the error taxonomy.
 * @public
 */
export type ErrorFamily =
  | 'authentication'
  | 'authorization'
  | 'resource'
  | 'rate-limit'
  | 'protocol'
  | 'upload'
  | 'server'
  | 'transport'
  | 'internal';

/**
 * Error codes defined by the OCI distribution-spec (v1.1, "Error Codes"), spelled as the spec
 * spells them. An error that a registry reported with one of these codes carries it as `code`.
 * @public
 */
export const DistributionErrorCode = {
  BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  BLOB_UPLOAD_INVALID: 'BLOB_UPLOAD_INVALID',
  BLOB_UPLOAD_UNKNOWN: 'BLOB_UPLOAD_UNKNOWN',
  DIGEST_INVALID: 'DIGEST_INVALID',
  MANIFEST_BLOB_UNKNOWN: 'MANIFEST_BLOB_UNKNOWN',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  NAME_INVALID: 'NAME_INVALID',
  NAME_UNKNOWN: 'NAME_UNKNOWN',
  SIZE_INVALID: 'SIZE_INVALID',
  UNAUTHORIZED: 'UNAUTHORIZED',
  DENIED: 'DENIED',
  UNSUPPORTED: 'UNSUPPORTED',
  TOOMANYREQUESTS: 'TOOMANYREQUESTS',
} as const;

/** @public */
export type DistributionErrorCode = (typeof DistributionErrorCode)[keyof typeof DistributionErrorCode];

/**
 * This project's own error codes, prefixed `GHCR_`.
 * @public
 */
export const GhcrErrorCode = {
  // authentication
  AUTH_FAILED: 'GHCR_AUTH_FAILED',
  UNAUTHORIZED: 'GHCR_UNAUTHORIZED',
  TOKEN_EXPIRED: 'GHCR_TOKEN_EXPIRED',
  CREDENTIALS_UNAVAILABLE: 'GHCR_CREDENTIALS_UNAVAILABLE',
  // authorization
  FORBIDDEN: 'GHCR_FORBIDDEN',
  VULN_DATA_NOT_AVAILABLE: 'GHCR_VULN_DATA_NOT_AVAILABLE',
  // resource
  NOT_FOUND: 'GHCR_NOT_FOUND',
  LAST_VERSION: 'GHCR_LAST_VERSION',
  DOWNLOAD_LIMIT: 'GHCR_DOWNLOAD_LIMIT',
  CONFLICT: 'GHCR_CONFLICT',
  FILE_SYSTEM: 'GHCR_FILE_SYSTEM',
  // rate limiting
  RATE_LIMITED: 'GHCR_RATE_LIMITED',
  SECONDARY_RATE_LIMITED: 'GHCR_SECONDARY_RATE_LIMITED',
  THROTTLE_TIMEOUT: 'GHCR_THROTTLE_TIMEOUT',
  /** A request budget the caller set (e.g. GITHUB_TOKEN's 1,000 API requests an hour) is spent. */
  BUDGET_EXHAUSTED: 'GHCR_BUDGET_EXHAUSTED',
  /** Docker Hub's pull quota is spent (a 429 with `ratelimit-remaining: 0;w=…`). */
  PULL_QUOTA_EXCEEDED: 'GHCR_PULL_QUOTA_EXCEEDED',
  // protocol
  UNSUPPORTED_MEDIA_TYPE: 'GHCR_UNSUPPORTED_MEDIA_TYPE',
  INVALID_MANIFEST: 'GHCR_INVALID_MANIFEST',
  MANIFEST_TOO_LARGE: 'GHCR_MANIFEST_TOO_LARGE',
  DIGEST_MISMATCH: 'GHCR_DIGEST_MISMATCH',
  SIZE_MISMATCH: 'GHCR_SIZE_MISMATCH',
  INVALID_DIGEST: 'GHCR_INVALID_DIGEST',
  INVALID_REFERENCE: 'GHCR_INVALID_REFERENCE',
  INVALID_PLATFORM: 'GHCR_INVALID_PLATFORM',
  INVALID_REPORT: 'GHCR_INVALID_REPORT',
  MISSING_HEADER: 'GHCR_MISSING_HEADER',
  BAD_REQUEST: 'GHCR_BAD_REQUEST',
  /** A tar archive (docker-archive, oci-archive) that is damaged, truncated or unsafe to read. */
  INVALID_ARCHIVE: 'GHCR_INVALID_ARCHIVE',
  UNEXPECTED_RESPONSE: 'GHCR_UNEXPECTED_RESPONSE',
  // upload
  UPLOAD_FAILED: 'GHCR_UPLOAD_FAILED',
  CHUNK_FAILED: 'GHCR_CHUNK_FAILED',
  MOUNT_FAILED: 'GHCR_MOUNT_FAILED',
  BODY_NOT_REPLAYABLE: 'GHCR_BODY_NOT_REPLAYABLE',
  // server
  SERVER_ERROR: 'GHCR_SERVER_ERROR',
  SERVICE_UNAVAILABLE: 'GHCR_SERVICE_UNAVAILABLE',
  // transport
  CONNECTION_FAILED: 'GHCR_CONNECTION_FAILED',
  TIMEOUT: 'GHCR_TIMEOUT',
  ABORTED: 'GHCR_ABORTED',
  // internal
  CONFIG: 'GHCR_CONFIG',
  /** A sync configuration file (`ghcr sync`) is malformed. */
  SYNC_CONFIG: 'GHCR_SYNC_CONFIG',
  /** The command line was wrong (an unknown command or flag, a malformed argument). */
  USAGE: 'GHCR_USAGE',
  /** A docker credential helper (`docker-credential-*`) failed or is missing. */
  CREDENTIAL_HELPER_FAILED: 'GHCR_CREDENTIAL_HELPER_FAILED',
  /** `ghcr serve` could not listen: the address is taken. */
  ADDRESS_IN_USE: 'GHCR_ADDRESS_IN_USE',
  /** `ghcr serve` could not listen: the address is not on this machine. */
  ADDRESS_UNAVAILABLE: 'GHCR_ADDRESS_UNAVAILABLE',
  SIMULATION_MISMATCH: 'GHCR_SIMULATION_MISMATCH',
  INTERNAL: 'GHCR_INTERNAL',
} as const;

/** @public */
export type GhcrErrorCode = (typeof GhcrErrorCode)[keyof typeof GhcrErrorCode];

/**
 * Every `code` a {@link GhcrError} can carry: one of this project's `GHCR_*` codes
 * ({@link GhcrErrorCode}) or a distribution-spec code the registry reported
 * ({@link DistributionErrorCode}). A union of literals, so a `switch` over it is checked and a
 * misspelled code does not compile.
 * @public
 */
export type ErrorCode = GhcrErrorCode | DistributionErrorCode;

const ERROR_CODES: ReadonlySet<string> = new Set<string>([
  ...Object.values(GhcrErrorCode),
  ...Object.values(DistributionErrorCode),
]);

/**
 * True when `value` is one of the {@link ErrorCode} literals (a registry may send codes of its
 * own, which are not).
 * @public
 */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ERROR_CODES.has(value);
}

/**
 * One entry of a distribution-spec error body (`{"errors":[{code,message,detail}]}`).
 * @public
 */
export interface RegistryErrorEntry {
  readonly code: string;
  readonly message?: string;
  readonly detail?: unknown;
}

/**
 * What an HTTP failure carries. The URL is redacted (no user info, no signature or token query
 * values) before it is stored here; no request header is ever stored.
 * @public
 */
export interface HttpErrorContext {
  readonly method: string;
  /** The request URL with credentials and signatures replaced by `REDACTED`. */
  readonly url: string;
  readonly status: number;
  /** Entries of a distribution-spec error body, when the registry sent one. */
  readonly registryErrors?: readonly RegistryErrorEntry[];
  /** `message` of a GitHub REST API error body, when the API sent one. */
  readonly apiMessage?: string;
  /** `documentation_url` of a GitHub REST API error body. */
  readonly documentationUrl?: string;
  /** `x-github-request-id` (or `x-request-id`) of the response, for support requests. */
  readonly requestId?: string;
}

/**
 * Options every {@link GhcrError} constructor takes.
 * @public
 */
export interface GhcrErrorOptions {
  /** The stable code. If omitted, the class's default code. */
  readonly code?: ErrorCode | undefined;
  /** The failure this error wraps (an undici error, a zod error, …). If omitted, none. */
  readonly cause?: unknown;
  /** HTTP context for failures that came from a response. Its URL is redacted again here. If omitted, none. */
  readonly http?: HttpErrorContext | undefined;
  /** Override retryability. If omitted, the class decides (see each class). */
  readonly isRetryable?: boolean | undefined;
}

const ROOT_BRAND = Symbol.for('ghcr.error');
const brandOf = (name: string): symbol => Symbol.for(`ghcr.error.${name}`);

interface ErrorClassLike {
  readonly errorName: string;
}

// Optional fields are `declare`d (no class-field initialiser), so a field that was not given is
// absent from the object rather than an own property holding `undefined`.

/**
 * The root of every error thrown by `@ghcr/*`. Match on `code`, or use `XError.isInstance(value)`
 * (works across duplicated package copies); avoid `instanceof`.
 * @public
 */
export class GhcrError extends Error {
  /** The name used in this class's brand symbol; every subclass sets its own. */
  static readonly errorName: string = 'GhcrError';
  /** The family this class belongs to in the taxonomy. */
  static readonly family: ErrorFamily = 'internal';
  /** The code used when the constructor is given none. */
  static readonly defaultCode: ErrorCode = GhcrErrorCode.INTERNAL;
  /** Whether errors of this class are retryable unless told otherwise. */
  static readonly defaultRetryable: boolean = false;

  /** A stable, machine-readable code: a distribution-spec code or a `GHCR_*` code. */
  readonly code: ErrorCode;
  /** The taxonomy family. */
  readonly family: ErrorFamily;
  /** Whether repeating the same request may succeed. Decided once, where the error is made. */
  readonly isRetryable: boolean;
  /** HTTP context, for failures that came from a response. */
  declare readonly http?: HttpErrorContext;

  /**
   * True when `value` is an error of this class (or a subclass), from any copy of the package.
   * @public
   */
  static isInstance<T>(this: ErrorClassLike & { prototype: T }, value: unknown): value is T {
    return (
      typeof value === 'object' &&
      value !== null &&
      // biome-ignore lint/complexity/noThisInStatic: `this` is the class isInstance was called on (a subclass too); naming GhcrError here would make every subclass check the root brand.
      (value as Record<symbol, unknown>)[brandOf(this.errorName)] === true
    );
  }

  constructor(message: string, options: GhcrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const ctor = new.target as unknown as typeof GhcrError;
    this.name = ctor.errorName;
    this.code = options.code ?? ctor.defaultCode;
    this.family = ctor.family;
    this.isRetryable = options.isRetryable ?? ctor.defaultRetryable;
    if (options.http !== undefined) this.http = { ...options.http, url: redactUrl(options.http.url) };
    Object.defineProperty(this, ROOT_BRAND, { value: true });
    // Brand every class of the chain, so `AuthError.isInstance(e)` holds for its subclasses too.
    for (let c: unknown = ctor; typeof c === 'function' && 'errorName' in c; c = Object.getPrototypeOf(c)) {
      Object.defineProperty(this, brandOf((c as ErrorClassLike).errorName), { value: true });
    }
  }

  /** A JSON form without the cause chain's stack traces, for `--json` output and logs. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      family: this.family,
      message: this.message,
      isRetryable: this.isRetryable,
      ...definedProps({ http: this.http }),
    };
  }
}

/**
 * True when `value` is a {@link GhcrError} (of any subclass) thrown by any copy of
 * `@ghcr/oci-types`: it checks the `Symbol.for('ghcr.error')` brand every `GhcrError` carries,
 * not `instanceof`, so it holds when an application ends up with two copies of the package (two
 * versions in `node_modules`, a bundled and an installed one). Narrow further on `code`.
 *
 * @example
 * ```ts
 * try {
 *   await client.manifests.get('octo/app', '1.0');
 * } catch (error) {
 *   if (isGhcrError(error) && error.code === 'MANIFEST_UNKNOWN') console.log('no such tag');
 *   else throw error;
 * }
 * ```
 * @public
 */
export function isGhcrError(value: unknown): value is GhcrError {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[ROOT_BRAND] === true
  );
}

/** Authentication failed: the token endpoint refused, or 401 persisted after a refresh. @public */
export class AuthenticationError extends GhcrError {
  static override readonly errorName: string = 'AuthenticationError';
  static override readonly family: ErrorFamily = 'authentication';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.UNAUTHORIZED;
}

/** The credentials are valid but lack a permission (a scope, an admin role). @public */
export class AuthorizationError extends GhcrError {
  static override readonly errorName: string = 'AuthorizationError';
  static override readonly family: ErrorFamily = 'authorization';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.FORBIDDEN;
  /** The scope or permission that was missing, when known (e.g. `repository:o/n:push`). */
  declare readonly scope?: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly scope?: string | undefined } = {}) {
    super(message, options);
    if (options.scope !== undefined) this.scope = options.scope;
  }
}

/** A repository, manifest, blob, package or version does not exist. @public */
export class NotFoundError extends GhcrError {
  static override readonly errorName: string = 'NotFoundError';
  static override readonly family: ErrorFamily = 'resource';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.NOT_FOUND;
  /** What was looked for, e.g. `manifest ghcr.io/o/n:latest` or `blob sha256:…`. */
  declare readonly resource?: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly resource?: string | undefined } = {}) {
    super(message, options);
    if (options.resource !== undefined) this.resource = options.resource;
  }
}

/**
 * The resource exists but its state forbids the operation: the last version of a package, a
 * public version with more than 5,000 downloads, an upload in the wrong state.
 * @public
 */
export class ResourceConflictError extends GhcrError {
  static override readonly errorName: string = 'ResourceConflictError';
  static override readonly family: ErrorFamily = 'resource';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.CONFLICT;
}

/** A rate limit was hit; `retryAfterMs` says how long the server asked to wait, when it did. @public */
export class RateLimitError extends GhcrError {
  static override readonly errorName: string = 'RateLimitError';
  static override readonly family: ErrorFamily = 'rate-limit';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.RATE_LIMITED;
  static override readonly defaultRetryable: boolean = true;
  /** Milliseconds the server asked to wait, when it said. */
  declare readonly retryAfterMs?: number;
  /** When the limit resets (epoch milliseconds), when known (for Docker Hub, an estimate from the window). */
  declare readonly resetAt?: number;
  /** Requests (Docker Hub: pulls) left in the window, when the server said. */
  declare readonly remaining?: number;
  /** Requests (Docker Hub: pulls) allowed in the window, when the server said. */
  declare readonly limit?: number;
  constructor(
    message: string,
    options: GhcrErrorOptions & {
      readonly retryAfterMs?: number | undefined;
      readonly resetAt?: number | undefined;
      readonly remaining?: number | undefined;
      readonly limit?: number | undefined;
    } = {},
  ) {
    super(message, options);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    if (options.resetAt !== undefined) this.resetAt = options.resetAt;
    if (options.remaining !== undefined) this.remaining = options.remaining;
    if (options.limit !== undefined) this.limit = options.limit;
  }
}

/** Waiting for a rate limit would take longer than allowed, or a hook vetoed the wait. @public */
export class ThrottleTimeoutError extends GhcrError {
  static override readonly errorName: string = 'ThrottleTimeoutError';
  static override readonly family: ErrorFamily = 'rate-limit';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.THROTTLE_TIMEOUT;
  /** The wait that was refused, in milliseconds. */
  readonly waitMs: number;
  constructor(message: string, options: GhcrErrorOptions & { readonly waitMs: number }) {
    super(message, options);
    this.waitMs = options.waitMs;
  }
}

/** The peer broke the protocol, or the caller sent something the protocol refuses. @public */
export class ProtocolError extends GhcrError {
  static override readonly errorName: string = 'ProtocolError';
  static override readonly family: ErrorFamily = 'protocol';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.UNEXPECTED_RESPONSE;
}

/** A media type this library does not handle (or refuses, like Docker schema 1). @public */
export class UnsupportedMediaTypeError extends ProtocolError {
  static override readonly errorName: string = 'UnsupportedMediaTypeError';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.UNSUPPORTED_MEDIA_TYPE;
  /** The media type that was refused. */
  readonly mediaType: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly mediaType: string }) {
    super(message, options);
    this.mediaType = options.mediaType;
  }
}

/** A manifest (or another document) failed validation; `field` names where. @public */
export class InvalidManifestError extends ProtocolError {
  static override readonly errorName: string = 'InvalidManifestError';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.INVALID_MANIFEST;
  /** Dotted path of the offending field (`layers.0.digest`), when known. */
  declare readonly field?: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly field?: string | undefined } = {}) {
    super(message, options);
    if (options.field !== undefined) this.field = options.field;
  }
}

/** Content did not hash to the digest it was supposed to have. @public */
export class DigestMismatchError extends ProtocolError {
  static override readonly errorName: string = 'DigestMismatchError';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.DIGEST_MISMATCH;
  /** The digest that was expected. */
  readonly expected: string;
  /** The digest the bytes really have. */
  readonly actual: string;
  constructor(
    message: string,
    options: GhcrErrorOptions & { readonly expected: string; readonly actual: string },
  ) {
    super(message, options);
    this.expected = options.expected;
    this.actual = options.actual;
  }
}

/** A string that should be a digest, reference, platform or name is malformed. @public */
export class InvalidInputError extends ProtocolError {
  static override readonly errorName: string = 'InvalidInputError';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.BAD_REQUEST;
  /** The offending input (never a secret). */
  declare readonly input?: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly input?: string | undefined } = {}) {
    super(message, options);
    if (options.input !== undefined) this.input = options.input;
  }
}

/** A response lacked a header the protocol requires (`Location`, `Docker-Content-Digest`, …). @public */
export class MissingHeaderError extends ProtocolError {
  static override readonly errorName: string = 'MissingHeaderError';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.MISSING_HEADER;
  /** The header's name. */
  readonly header: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly header: string }) {
    super(message, options);
    this.header = options.header;
  }
}

/** A blob upload failed (a chunk, a mount, the session). @public */
export class UploadError extends GhcrError {
  static override readonly errorName: string = 'UploadError';
  static override readonly family: ErrorFamily = 'upload';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.UPLOAD_FAILED;
  /** Byte offset the failed chunk started at, for `GHCR_CHUNK_FAILED`. */
  declare readonly offset?: number;
  /** The digest being uploaded or mounted. */
  declare readonly digest?: string;
  constructor(
    message: string,
    options: GhcrErrorOptions & {
      readonly offset?: number | undefined;
      readonly digest?: string | undefined;
    } = {},
  ) {
    super(message, options);
    if (options.offset !== undefined) this.offset = options.offset;
    if (options.digest !== undefined) this.digest = options.digest;
  }
}

/** The server failed (5xx). Retryable by default. @public */
export class ServerError extends GhcrError {
  static override readonly errorName: string = 'ServerError';
  static override readonly family: ErrorFamily = 'server';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.SERVER_ERROR;
  static override readonly defaultRetryable: boolean = true;
  /** Milliseconds the server asked to wait (`Retry-After` on a 503), when it said. */
  declare readonly retryAfterMs?: number;
  constructor(
    message: string,
    options: GhcrErrorOptions & { readonly retryAfterMs?: number | undefined } = {},
  ) {
    super(message, options);
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** The connection failed, timed out or was aborted before a response was complete. @public */
export class TransportError extends GhcrError {
  static override readonly errorName: string = 'TransportError';
  static override readonly family: ErrorFamily = 'transport';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.CONNECTION_FAILED;
  static override readonly defaultRetryable: boolean = true;
  /**
   * Whether the registry was reached: `true` when it accepted the connection (or answered) and
   * then broke off, so the address is right and a retry, or a look at a proxy in between, is
   * what helps; `false` when it never answered (no such host, refused, connect timeout). If
   * omitted, unknown.
   */
  declare readonly connected?: boolean;
  constructor(
    message: string,
    options: GhcrErrorOptions & { readonly connected?: boolean | undefined } = {},
  ) {
    super(message, options);
    if (options.connected !== undefined) this.connected = options.connected;
  }
}

/** Options failed validation; the message names the field. Never retryable. @public */
export class ConfigError extends GhcrError {
  static override readonly errorName: string = 'ConfigError';
  static override readonly family: ErrorFamily = 'internal';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.CONFIG;
  /** Dotted path of the offending option, when known. */
  declare readonly field?: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly field?: string | undefined } = {}) {
    super(message, options);
    if (options.field !== undefined) this.field = options.field;
  }
}

/** A replayed session met a request the cassette does not hold. @public */
export class SimulationMismatchError extends GhcrError {
  static override readonly errorName: string = 'SimulationMismatchError';
  static override readonly family: ErrorFamily = 'internal';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.SIMULATION_MISMATCH;
  /** `METHOD url` of the closest recorded request, when there was any. */
  declare readonly closest?: string;
  constructor(message: string, options: GhcrErrorOptions & { readonly closest?: string | undefined } = {}) {
    super(message, options);
    if (options.closest !== undefined) this.closest = options.closest;
  }
}

/** A bug or an unexpected state inside this library. Please report it. @public */
export class InternalError extends GhcrError {
  static override readonly errorName: string = 'InternalError';
  static override readonly family: ErrorFamily = 'internal';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.INTERNAL;
}
