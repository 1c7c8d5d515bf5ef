import { definedProps } from './defined-props.js';
import {
  AuthenticationError,
  AuthorizationError,
  DistributionErrorCode,
  type GhcrError,
  GhcrErrorCode,
  type HttpErrorContext,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
  type RegistryErrorEntry,
  ResourceConflictError,
  ServerError,
  TransportError,
} from './errors.js';
import {
  describeDockerHubQuota,
  parseDockerHubRateLimitHeaders,
  parseRetryAfterHeader,
  parseRetryAfterInMessage,
} from './rate-limit.js';
import { redactText, redactUrl } from './redact.js';

/** At most this much of an error body is read or kept (oras `errutil` reads 8 KiB). @public */
export const MAX_ERROR_BODY_BYTES = 8 * 1024;

/**
 * Statuses that mean "the same request may succeed if sent again", rate limits aside (429 is the
 * rate limiter's): 408 and 500/502/503/504. The one place this is decided: the retry middleware
 * repeats these, and {@link errorFromResponse} marks the errors it makes for them retryable.
 * @public
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 500, 502, 503, 504]);

/**
 * The parts of a failed HTTP exchange that {@link errorFromResponse} needs.
 * @public
 */
export interface FailedResponse {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** Up to {@link MAX_ERROR_BODY_BYTES} of the body, as text. */
  readonly body?: string;
  /** The clock's now, for turning `x-ratelimit-reset` and HTTP dates into waits. If omitted, Date.now(). */
  readonly now?: number;
  /** Secrets to scrub from any text taken from the body. */
  readonly secrets?: Iterable<string>;
  /** How many times the request was sent (retries included). If omitted, 1. */
  readonly attempts?: number;
}

const specCodes: ReadonlySet<string> = new Set<string>(Object.values(DistributionErrorCode));
const isSpecCode = (code: string): code is DistributionErrorCode => specCodes.has(code);

function header(headers: FailedResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[0];
}

interface ParsedBody {
  registryErrors?: RegistryErrorEntry[];
  apiMessage?: string;
  documentationUrl?: string;
  text?: string;
}

function parseErrorBody(body: string | undefined): ParsedBody {
  if (body === undefined || body.trim() === '') return {};
  const text = body.length > MAX_ERROR_BODY_BYTES ? body.slice(0, MAX_ERROR_BODY_BYTES) : body;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { text: text.trim() };
  }
  if (typeof json !== 'object' || json === null) return { text: text.trim() };
  const record = json as Record<string, unknown>;
  const parsed: ParsedBody = {};
  if (Array.isArray(record.errors)) {
    parsed.registryErrors = record.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
        ...(typeof e.message === 'string' ? { message: e.message } : {}),
        ...definedProps({ detail: e.detail }),
      }));
  }
  if (typeof record.message === 'string') parsed.apiMessage = record.message;
  if (typeof record.documentation_url === 'string') parsed.documentationUrl = record.documentation_url;
  return parsed;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  409: 'conflict',
  410: 'gone',
  413: 'payload too large',
  416: 'range not satisfiable',
  422: 'unprocessable entity',
  429: 'too many requests',
  500: 'internal server error',
  502: 'bad gateway',
  503: 'service unavailable',
  504: 'gateway timeout',
};

/** Redacts every string inside a registry error's `detail` (any JSON value). */
function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, secrets));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactDeep(item, secrets)]));
  }
  return value;
}

/** GitHub's secondary rate limit, as its REST API (and a GHCR push, observed) words it. */
const SECONDARY_RATE_LIMIT = /secondary rate limit/i;

/**
 * Maps a failed HTTP response to the right {@link GhcrError} subclass, following the seed's
 * taxonomy: 401 → authentication, 403 → authorization (or rate limit, for GitHub's secondary
 * limit or an exhausted `x-ratelimit-remaining`), 404 → not found, 408 → transport (retryable),
 * 409 → conflict, 429 → rate limit, 5xx → server, other 4xx → protocol. A registry error code from
 * the body becomes the error's `code` (spec spelling); the message has the form
 * `GET "<url>": status 404: not found: manifest unknown` with the URL redacted and every text
 * taken from the body scrubbed of `secrets`, bearer credentials and signed-URL query values.
 * @public
 */
export function errorFromResponse(response: FailedResponse): GhcrError {
  const secrets = [...(response.secrets ?? [])];
  const url = redactText(redactUrl(response.url), secrets);
  const parsed = parseErrorBody(response.body);
  const entries = (parsed.registryErrors ?? []).map(
    (entry): RegistryErrorEntry => ({
      code: entry.code,
      ...(entry.message === undefined ? {} : { message: redactText(entry.message, secrets) }),
      ...(entry.detail === undefined ? {} : { detail: redactDeep(entry.detail, secrets) }),
    }),
  );
  const apiMessage = parsed.apiMessage === undefined ? undefined : redactText(parsed.apiMessage, secrets);
  const text = parsed.text === undefined ? undefined : redactText(parsed.text, secrets);
  const first = entries[0];
  const detailText =
    first !== undefined
      ? entries
          .map((e) => e.message ?? e.code.toLowerCase().replace(/_/g, ' '))
          .filter((s) => s !== '')
          .join('; ')
      : (apiMessage ?? text ?? '');
  const requestId =
    header(response.headers, 'x-github-request-id') ?? header(response.headers, 'x-request-id');
  const http: HttpErrorContext = {
    method: response.method,
    url,
    status: response.status,
    ...(parsed.registryErrors === undefined ? {} : { registryErrors: entries }),
    ...definedProps({ apiMessage }),
    ...(parsed.documentationUrl === undefined
      ? {}
      : { documentationUrl: redactUrl(parsed.documentationUrl) }),
    ...definedProps({ requestId }),
  };
  const statusText = STATUS_TEXT[response.status] ?? 'error';
  const message = `${response.method} "${url}": status ${response.status}: ${statusText}${detailText === '' ? '' : `: ${detailText}`}`;
  const specCode = first !== undefined && isSpecCode(first.code) ? first.code : undefined;
  const status = response.status;
  const now = response.now ?? Date.now();

  // Every text the server sent, for the hints GHCR and GitHub put in prose rather than headers.
  const bodyTexts = [...entries.map((e) => e.message ?? ''), apiMessage ?? '', text ?? ''];
  const retryAfterHint = bodyTexts
    .map((t) => parseRetryAfterInMessage(t))
    .find((ms): ms is number => ms !== undefined);
  const retryAfterMs = parseRetryAfterHeader(header(response.headers, 'retry-after'), now) ?? retryAfterHint;
  const resetHeader = header(response.headers, 'x-ratelimit-reset');
  const resetAt =
    resetHeader !== undefined && /^\d+$/.test(resetHeader) ? Number(resetHeader) * 1000 : undefined;
  const rateOptions = {
    http,
    ...definedProps({ retryAfterMs, resetAt }),
  };

  // GitHub answers both its primary and its secondary limit with 403 or 429.
  if ((status === 403 || status === 429) && bodyTexts.some((t) => SECONDARY_RATE_LIMIT.test(t))) {
    return new RateLimitError(message, { ...rateOptions, code: GhcrErrorCode.SECONDARY_RATE_LIMITED });
  }
  // Docker Hub's pull quota: say what is left, when it frees up and what to do.
  const quota = status === 429 ? parseDockerHubRateLimitHeaders(response.headers, now) : undefined;
  if (quota !== undefined && quota.remaining === 0) {
    let host = '';
    try {
      host = new URL(response.url).host;
    } catch {
      // A relative URL: no host to name.
    }
    return new RateLimitError(`${message}. ${describeDockerHubQuota(quota, host)}`, {
      http,
      code: GhcrErrorCode.PULL_QUOTA_EXCEEDED,
      resetAt: quota.resetAt,
      remaining: quota.remaining,
      limit: quota.limit,
      // Waiting for a window of hours is not a retry.
      isRetryable: quota.windowMs === undefined || quota.windowMs <= 15 * 60_000,
    });
  }
  if (status === 429 || specCode === DistributionErrorCode.TOOMANYREQUESTS) {
    return new RateLimitError(message, { ...rateOptions, code: specCode ?? GhcrErrorCode.RATE_LIMITED });
  }
  if (status === 403 && header(response.headers, 'x-ratelimit-remaining') === '0') {
    return new RateLimitError(message, { ...rateOptions, code: GhcrErrorCode.RATE_LIMITED });
  }
  if (status === 401) {
    return new AuthenticationError(message, { http, code: specCode ?? GhcrErrorCode.UNAUTHORIZED });
  }
  if (status === 403) {
    return new AuthorizationError(message, { http, code: specCode ?? GhcrErrorCode.FORBIDDEN });
  }
  if (status === 404) {
    return new NotFoundError(message, { http, code: specCode ?? GhcrErrorCode.NOT_FOUND });
  }
  const attempts = response.attempts ?? 1;
  const tried = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (status === 408) {
    // The server gave up waiting for the request: like a timeout, repeating it may succeed.
    return new TransportError(
      `${message}; the registry timed out waiting for the request${tried}: retry later, or check the network to it`,
      { http, code: GhcrErrorCode.TIMEOUT, connected: true, isRetryable: RETRYABLE_STATUSES.has(status) },
    );
  }
  if (status >= 500) {
    return new ServerError(`${message}; the registry is failing${tried}: retry later`, {
      http,
      code: status === 503 ? GhcrErrorCode.SERVICE_UNAVAILABLE : GhcrErrorCode.SERVER_ERROR,
      isRetryable: RETRYABLE_STATUSES.has(status),
      ...definedProps({ retryAfterMs }),
    });
  }
  if (status === 409) {
    return new ResourceConflictError(message, { http, code: specCode ?? GhcrErrorCode.CONFLICT });
  }
  if (status === 400 && specCode === undefined) {
    return new InvalidInputError(message, { http, code: GhcrErrorCode.BAD_REQUEST });
  }
  return new ProtocolError(message, {
    http,
    code: specCode ?? (status === 400 ? GhcrErrorCode.BAD_REQUEST : GhcrErrorCode.UNEXPECTED_RESPONSE),
  });
}
