/**
 * The errors a token endpoint's answer turns into: what went wrong, and what to do about it.
 */

import {
  AuthenticationError,
  definedProps,
  GhcrErrorCode,
  parseRetryAfterHeader,
  parseRetryAfterInMessage,
  RateLimitError,
  redactText,
} from '@ghcr/oci-types';

/**
 * What the error of a token request names: the request (realm already redacted) and the registry.
 * @internal
 */
export interface TokenRequestSummary {
  readonly method: string;
  readonly url: URL;
  /** The request URL (realm + service + scopes), with any credential-like query value redacted. */
  readonly redactedRealm: string;
  readonly registry: string;
  readonly anonymous: boolean;
  /** `the credentials from <source>`, or `an anonymous token request`. */
  readonly who: string;
  /** Secrets to redact from anything the endpoint echoed. */
  readonly secrets: readonly string[];
}

/**
 * A token endpoint answered but gave no token (`GHCR_AUTH_FAILED`).
 * @internal
 */
export function tokenFetchFailed(
  message: string,
  status: number,
  summary: Pick<TokenRequestSummary, 'method' | 'url'>,
  retryable: boolean,
): AuthenticationError {
  return new AuthenticationError(message, {
    code: GhcrErrorCode.AUTH_FAILED,
    isRetryable: retryable,
    http: { method: summary.method, url: summary.url.toString(), status },
  });
}

/**
 * The error for a non-2xx answer of a token endpoint: `RateLimitError` for 429 (with its
 * `Retry-After`), else `AuthenticationError` with a hint fitting the status.
 * @internal
 */
export function tokenEndpointRefusal(
  summary: TokenRequestSummary,
  status: number,
  bodyText: string,
  retryAfter: string | undefined,
  now: number,
): RateLimitError | AuthenticationError {
  const { method, url, redactedRealm, registry } = summary;
  const detail = redactText(errorDetail(bodyText), summary.secrets);
  const suffix = detail === '' ? '' : `: ${detail}`;
  if (status === 429) {
    const retryAfterMs = parseRetryAfterHeader(retryAfter, now) ?? parseRetryAfterInMessage(bodyText);
    return new RateLimitError(
      `${method} "${redactedRealm}": status 429: the token endpoint of ${registry} is rate limiting${suffix}; wait and retry`,
      {
        http: { method, url: url.toString(), status },
        ...definedProps({ retryAfterMs }),
      },
    );
  }
  return tokenFetchFailed(
    `${method} "${redactedRealm}": status ${status}: the token endpoint of ${registry} refused ${summary.who}${suffix}; ${refusalHint(status, summary.anonymous)}`,
    status,
    summary,
    status >= 500,
  );
}

function refusalHint(status: number, anonymous: boolean): string {
  if (status >= 300 && status < 400) {
    return 'the token endpoint redirected; credentials are sent only to the realm the challenge names, so the redirect is not followed';
  }
  if (status === 401 || status === 403) {
    return anonymous
      ? 'the repository may be private or not exist: provide credentials (e.g. GHCR_TOKEN, or docker login)'
      : 'check that the token is valid and not expired, and that it has the needed scope (read:packages to pull, write:packages to push)';
  }
  if (status >= 500) return 'the token endpoint failed; retry later';
  return 'the token endpoint refused the request';
}

/** The message part of a token endpoint's error body: distribution errors, OAuth errors, GitHub's. */
function errorDetail(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  try {
    const json: unknown = JSON.parse(trimmed);
    if (typeof json === 'object' && json !== null) {
      const record = json as Record<string, unknown>;
      const errors = record.errors;
      if (Array.isArray(errors)) {
        const parts = errors
          .map((entry: unknown) => {
            if (typeof entry !== 'object' || entry === null) return '';
            const { code, message } = entry as { code?: unknown; message?: unknown };
            return [code, message].filter((part) => typeof part === 'string' && part !== '').join(': ');
          })
          .filter((part) => part !== '');
        if (parts.length > 0) return parts.join('; ');
      }
      for (const field of ['error_description', 'message', 'details', 'error']) {
        const value = record[field];
        if (typeof value === 'string' && value !== '') return value;
      }
    }
  } catch {
    // Not JSON: use the text itself.
  }
  const line = trimmed.split(/\r?\n/, 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
