/**
 * Options of {@link createTokenManager}, validated once by zod.
 */

import { type Clock, ConfigError, systemClock } from '@ghcr/oci-types';
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
export const tokenManagerOptionsSchema = z.object({
  /** The undici Dispatcher token requests go through (an Agent, or the simulation's). Required. */
  dispatcher: z.custom<Dispatcher>(
    (value) =>
      typeof value === 'object' && value !== null && isFunction((value as { dispatch?: unknown }).dispatch),
    { message: 'expected an undici Dispatcher (an object with a dispatch() method)' },
  ),
  /** Where credentials come from. If omitted, none: every token is anonymous. */
  credentials: z
    .custom<CredentialProvider>(
      (value) =>
        typeof value === 'object' && value !== null && isFunction((value as { resolve?: unknown }).resolve),
      { message: 'expected a CredentialProvider (an object with a resolve() method)' },
    )
    .optional(),
  /** Time source for token expiry. If omitted, the system clock. */
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
  /**
   * Lifetime assumed for a token whose response has no `expires_in` and which is not a JWT with
   * `exp`. If omitted, 60 s, the token spec's default (GHCR sends no `expires_in`).
   */
  defaultTokenTtlSeconds: z.number().positive().finite().default(60),
  /**
   * A token is dropped this long before it expires, so it is not sent just as it lapses; capped
   * at half the token's lifetime. If omitted, 10 s.
   */
  expirySkewSeconds: z.number().nonnegative().finite().default(10),
  /**
   * Whether a plain-HTTP realm on this host may receive credentials. If omitted, loopback hosts
   * only ({@link isLoopbackHost}). `https:` realms are always accepted.
   */
  allowInsecureRealm: z
    .custom<(host: string) => boolean>(isFunction, { message: 'expected a function (host) => boolean' })
    .default(() => isLoopbackHost),
  /**
   * Registries that accept `Authorization: Bearer base64(<password>)` directly, with no token
   * exchange. If omitted, `['ghcr.io']`.
   */
  directBearerRegistries: z.array(z.string().min(1)).default(() => ['ghcr.io']),
  /** `User-Agent` sent to token endpoints. If omitted, `ghcr-ts/auth`. */
  userAgent: z.string().min(1).default('ghcr-ts/auth'),
  /** Milliseconds to wait for a token endpoint's headers, then its body. If omitted, 30 000. */
  tokenRequestTimeoutMs: z.number().int().positive().default(30_000),
  /**
   * Called with each cache hit/miss, fetch, failure and invalidation, for metrics and `--debug`.
   * Never receives a secret. Exceptions it throws are ignored. If omitted, nothing is reported.
   */
  onEvent: z
    .custom<(event: TokenManagerEvent) => void>(isFunction, {
      message: 'expected a function (event) => void',
    })
    .optional(),
});

/**
 * Options of {@link createTokenManager} (input form, defaults optional).
 * @public
 */
export type TokenManagerOptions = z.input<typeof tokenManagerOptionsSchema>;

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
  const parsed = tokenManagerOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined ? '' : issue.path.map(String).join('.');
  throw new ConfigError(
    `invalid token manager option "${field}": ${issue?.message ?? 'invalid value'}; see the TokenManagerOptions documentation`,
    { field, cause: parsed.error },
  );
}
