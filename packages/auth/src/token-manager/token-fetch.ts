/**
 * Fetching one token from a realm: send the token request, read the answer, turn a refusal into
 * a clear error and a token into its lifetime. Nothing is cached here (see token-source.ts).
 */

import {
  type Clock,
  ConfigError,
  definedProps,
  lazySchema,
  redactText,
  redactUrl,
  TransportError,
} from '@ghcr/oci-types';
import { type Dispatcher, request } from 'undici';
import * as z from 'zod';
import { type ResolvedCredential, secretsOf } from '../credentials/credential.js';
import type { Scope } from '../scope.js';
import type { TokenHttpResponse, TokenHttpSend } from '../token-manager-options.js';
import type { KnownRealm } from './challenges.js';
import { type TokenRequestSummary, tokenEndpointRefusal, tokenFetchFailed } from './token-endpoint-errors.js';
import { type TokenLifetimeSettings, tokenExpiresAt } from './token-lifetime.js';
import { tokenRequestFor } from './token-request.js';

const tokenResponseSchema = lazySchema(() =>
  z
    .object({
      token: z.string().optional(),
      access_token: z.string().optional(),
      expires_in: z.union([z.number(), z.string()]).optional(),
      issued_at: z.string().optional(),
    })
    .loose(),
);

const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 8 * 1024;

/**
 * What fetching a token needs.
 * @internal
 */
export interface TokenFetchSettings extends TokenLifetimeSettings {
  /** How token requests go out ({@link tokenSend} of the options). */
  readonly send: TokenHttpSend;
  readonly clock: Clock;
  readonly userAgent: string;
  readonly tokenRequestTimeoutMs: number;
}

/**
 * A token a realm gave.
 * @internal
 */
export interface FetchedToken {
  readonly token: string;
  /** When to stop reusing it (epoch ms, skew taken off). */
  readonly expiresAt: number;
  readonly anonymous: boolean;
  /** Where the credential came from, or `anonymous`. */
  readonly source: string;
  /** The request URL, redacted. */
  readonly realm: string;
  readonly durationMs: number;
}

/**
 * Asks `known`'s realm for a token with `scopes` for `registry`, with `resolvedCredential` (or
 * anonymously).
 * @throws AuthenticationError `GHCR_AUTH_FAILED` (refused, or no token in the answer);
 * RateLimitError (429); TransportError (unreachable, or the answer could not be read).
 * @internal
 */
export async function fetchToken(
  settings: TokenFetchSettings,
  registry: string,
  known: KnownRealm,
  scopes: readonly Scope[],
  resolvedCredential: ResolvedCredential | undefined,
): Promise<FetchedToken> {
  const { clock } = settings;
  const credential = resolvedCredential?.credential ?? {};
  const secrets = secretsOf(credential);
  const tokenRequest = tokenRequestFor(known, scopes, credential, settings.userAgent);
  const { url, method, anonymous } = tokenRequest;
  const summary: TokenRequestSummary = {
    method,
    url,
    redactedRealm: redactUrl(url.toString()),
    registry,
    anonymous,
    who: anonymous
      ? 'an anonymous token request'
      : `the credentials from ${resolvedCredential?.source ?? 'unknown'}`,
    secrets,
  };
  const { redactedRealm } = summary;
  const started = clock.now();
  let response: TokenHttpResponse;
  try {
    response = await settings.send({
      url: url.toString(),
      method,
      headers: tokenRequest.headers,
      ...definedProps({ body: tokenRequest.body }),
      timeoutMs: settings.tokenRequestTimeoutMs,
    });
  } catch (error: unknown) {
    const reason = redactText(error instanceof Error ? error.message : String(error), secrets);
    throw new TransportError(`token request to ${redactedRealm} for ${registry} failed: ${reason}`, {
      cause: error,
    });
  }
  const status = response.status;
  if (status < 200 || status >= 300) {
    const { text } = await readBody(response.body, MAX_ERROR_BODY_BYTES).catch(() => ({ text: '' }));
    throw tokenEndpointRefusal(
      summary,
      status,
      text,
      headerValue(response.headers, 'retry-after'),
      clock.now(),
    );
  }
  let text: string;
  let truncated: boolean;
  try {
    ({ text, truncated } = await readBody(response.body, MAX_TOKEN_RESPONSE_BYTES));
  } catch (error: unknown) {
    throw new TransportError(`reading the token response of ${redactedRealm} for ${registry} failed`, {
      cause: error,
    });
  }
  // Neither the JSON nor the zod error is kept as cause: both may quote the token.
  let json: unknown;
  try {
    if (truncated) throw new Error('too large');
    json = JSON.parse(text);
  } catch {
    throw tokenFetchFailed(
      `${method} "${redactedRealm}": status ${status}: the token endpoint of ${registry} answered with a body that is not a JSON token response${truncated ? ' (over 1 MiB)' : ''}`,
      status,
      summary,
      false,
    );
  }
  const tokenResponse = tokenResponseSchema.safeParse(json);
  const token = tokenResponse.success
    ? (tokenResponse.data.token ?? tokenResponse.data.access_token)
    : undefined;
  if (!tokenResponse.success || token === undefined || token === '') {
    throw tokenFetchFailed(
      `${method} "${redactedRealm}": status ${status}: the token endpoint of ${registry} answered without a "token" or "access_token" string`,
      status,
      summary,
      false,
    );
  }
  const rawExpiresIn = tokenResponse.data.expires_in;
  const expiresIn = rawExpiresIn === undefined ? undefined : Number(rawExpiresIn);
  const now = clock.now();
  return {
    token,
    expiresAt: tokenExpiresAt(token, expiresIn, tokenResponse.data.issued_at, now, settings),
    anonymous,
    source: anonymous ? 'anonymous' : (resolvedCredential?.source ?? 'unknown'),
    realm: redactedRealm,
    durationMs: now - started,
  };
}

/**
 * How a token manager's requests go out, decided once from its resolved options: `send` when given,
 * else undici's `request` on `dispatcher` (or on what the function returns, at each request). The
 * options' schema requires one of the two.
 * @internal
 */
export function tokenSend(options: {
  readonly send?: TokenHttpSend | undefined;
  readonly dispatcher?: Dispatcher | (() => Dispatcher) | undefined;
}): TokenHttpSend {
  if (options.send !== undefined) return options.send;
  const { dispatcher } = options;
  if (dispatcher === undefined) {
    throw new ConfigError('give the token manager `send`, or an undici `dispatcher`', {
      field: 'dispatcher',
    });
  }
  return async ({ url, method, headers, body, timeoutMs }) => {
    const response = await request(url, {
      dispatcher: typeof dispatcher === 'function' ? dispatcher() : dispatcher,
      method,
      headers,
      ...definedProps({ body }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    return { status: response.statusCode, headers: response.headers, body: response.body };
  };
}

async function readBody(
  body: TokenHttpResponse['body'],
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (size + buffer.length > limit) {
      chunks.push(buffer.subarray(0, limit - size));
      truncated = true;
      break;
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  if (truncated) body.destroy();
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

function headerValue(headers: TokenHttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return value;
}
