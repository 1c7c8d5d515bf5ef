/**
 * Options of {@link createTokenManager}, validated once by zod.
 */

import {
  type Clock,
  ConfigError,
  lazySchema,
  PARSE_ONCE,
  systemClock,
  unknownKeysError,
} from '@ghcr/oci-types';
import type { Dispatcher } from 'undici';
import * as z from 'zod';
import type { CredentialProvider } from './credentials/credential.js';
import { isLoopbackHost } from './realm.js';
import type { TokenManagerEvent } from './token-manager-events.js';

const isFunction = (value: unknown): boolean => typeof value === 'function';

/**
 * The zod schema of {@link TokenManagerOptions}. Defaults live here.
 * @public
 */
export const tokenManagerOptionsSchema = lazySchema(
  () =>
    z
      .object({
        dispatcher: z
          .custom<Dispatcher | (() => Dispatcher)>(
            (value) =>
              isFunction(value) ||
              (typeof value === 'object' &&
                value !== null &&
                isFunction((value as { dispatch?: unknown }).dispatch)),
            {
              message:
                'expected an undici Dispatcher (an object with a dispatch() method), or a function returning one',
            },
          )
          .optional(),
        send: z
          .custom<TokenHttpSend>(isFunction, {
            message: 'expected a function (request) => Promise<response>',
          })
          .optional(),
        credentials: z
          .custom<CredentialProvider>(
            (value) =>
              typeof value === 'object' &&
              value !== null &&
              isFunction((value as { resolve?: unknown }).resolve),
            { message: 'expected a CredentialProvider (an object with a resolve() method)' },
          )
          .optional(),
        clock: z
          .custom<Clock>(
            (value) =>
              typeof value === 'object' &&
              value !== null &&
              isFunction((value as { now?: unknown }).now) &&
              isFunction((value as { sleep?: unknown }).sleep),
            { message: 'expected a Clock (an object with now() and sleep())' },
          )
          .default(() => systemClock),
        defaultTokenTtlSeconds: z.number().positive().finite().default(60),
        expirySkewSeconds: z.number().nonnegative().finite().default(10),
        allowInsecureRealm: z
          .custom<(host: string) => boolean>(isFunction, { message: 'expected a function (host) => boolean' })
          .default(() => isLoopbackHost),
        directBearerRegistries: z.array(z.string().min(1)).default(() => ['ghcr.io']),
        userAgent: z.string().min(1).default('ghcr-ts/auth'),
        tokenRequestTimeoutMs: z.number().int().positive().default(30_000),
        onEvent: z
          .custom<(event: TokenManagerEvent) => void>(isFunction, {
            message: 'expected a function (event) => void',
          })
          .optional(),
      })
      .strict()
      .refine((options) => options.dispatcher !== undefined || options.send !== undefined, {
        message: 'give the token manager a way to send token requests: `send`, or an undici `dispatcher`',
        path: ['dispatcher'],
      }) satisfies z.ZodType<unknown, TokenManagerOptions>,
);

/**
 * One request to a token endpoint, as a token manager hands it to {@link TokenManagerOptions.send}.
 * @public
 */
export interface TokenHttpRequest {
  /** The realm's URL with the query (`service`, `scope`). */
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** Lower-case names; `authorization` holds the credential when there is one (a secret). */
  readonly headers: Readonly<Record<string, string>>;
  /** The form of an OAuth2 refresh-token grant (a POST); else undefined. */
  readonly body?: string | undefined;
  /** Milliseconds to wait for the response's head, then for each piece of its body. */
  readonly timeoutMs: number;
}

/**
 * A token endpoint's response, as {@link TokenManagerOptions.send} resolves with it.
 * @public
 */
export interface TokenHttpResponse {
  readonly status: number;
  /** Lower-case names; a repeated header as an array. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body, read to its end or destroyed by the token manager. */
  readonly body: AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown };
}

/**
 * Sends one token request and resolves with the response's head and streaming body; rejects when
 * no response came (a connection failure, a timeout). Never follows a redirect.
 * @public
 */
export type TokenHttpSend = (request: TokenHttpRequest) => Promise<TokenHttpResponse>;

/**
 * Options of {@link createTokenManager}. Unknown keys are refused by name.
 * @public
 */
export interface TokenManagerOptions {
  /**
   * The undici Dispatcher token requests go through (an Agent, or the simulation's), or a function
   * returning it, called at each token request (so that a process that never asks for a token
   * never creates the dispatcher). Ignored when `send` is given. One of the two is required.
   */
  readonly dispatcher?: Dispatcher | (() => Dispatcher) | undefined;
  /**
   * Sends token requests instead of undici: a transport's own connections (an authorizer
   * factory's `parts.send`). One of `send` and `dispatcher` is required.
   */
  readonly send?: TokenHttpSend | undefined;
  /** Where credentials come from. If omitted, none: every token is anonymous. */
  readonly credentials?: CredentialProvider | undefined;
  /** Time source for token expiry. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
  /**
   * Lifetime assumed for a token whose response has no `expires_in` and which is not a JWT with
   * `exp`. If omitted, 60 s, the token spec's default (GHCR sends no `expires_in`).
   */
  readonly defaultTokenTtlSeconds?: number | undefined;
  /**
   * A token is dropped this long before it expires, so it is not sent just as it lapses; capped
   * at half the token's lifetime. If omitted, 10 s.
   */
  readonly expirySkewSeconds?: number | undefined;
  /**
   * Whether a plain-HTTP realm on this host may receive credentials. If omitted, loopback hosts
   * only ({@link isLoopbackHost}). `https:` realms are always accepted.
   */
  readonly allowInsecureRealm?: ((host: string) => boolean) | undefined;
  /**
   * Registries that accept `Authorization: Bearer base64(<password>)` directly, with no token
   * exchange. If omitted, `['ghcr.io']`.
   */
  readonly directBearerRegistries?: readonly string[] | undefined;
  /** `User-Agent` sent to token endpoints. If omitted, `ghcr-ts/auth`. */
  readonly userAgent?: string | undefined;
  /** Milliseconds to wait for a token endpoint's headers, then its body. If omitted, 30 000. */
  readonly tokenRequestTimeoutMs?: number | undefined;
  /**
   * Called with each cache hit/miss, fetch, failure and invalidation, for metrics and `--debug`.
   * Never receives a secret. Exceptions it throws are ignored. If omitted, nothing is reported.
   */
  readonly onEvent?: ((event: TokenManagerEvent) => void) | undefined;
}

/**
 * Options of a token manager after defaults.
 * @public
 */
export type ResolvedTokenManagerOptions = z.output<typeof tokenManagerOptionsSchema>;

/**
 * Validates `options` and applies the defaults.
 * @throws ConfigError naming the first invalid field.
 * @internal
 */
export function resolveTokenManagerOptions(options: TokenManagerOptions): ResolvedTokenManagerOptions {
  const parsed = tokenManagerOptionsSchema.safeParse(options, PARSE_ONCE);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw unknownKeysError('token manager option', tokenManagerOptionsSchema, issue, parsed.error);
  }
  const field = issue === undefined ? '' : issue.path.map(String).join('.');
  throw new ConfigError(
    `invalid token manager option "${field}": ${issue?.message ?? 'invalid value'}; see the TokenManagerOptions documentation`,
    { field, cause: parsed.error },
  );
}
