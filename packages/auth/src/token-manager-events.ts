/**
 * What a token manager reports through `onEvent`. No event carries a secret.
 */

/**
 * A token was served from the cache (`inFlight: true` when the caller joined a fetch another
 * caller had started: single flight).
 * @public
 */
export interface TokenCacheHitEvent {
  readonly type: 'cache-hit';
  readonly registry: string;
  readonly key: string;
  readonly scopes: readonly string[];
  readonly inFlight: boolean;
}

/**
 * No usable cached token: a fetch starts.
 * @public
 */
export interface TokenCacheMissEvent {
  readonly type: 'cache-miss';
  readonly registry: string;
  readonly key: string;
  readonly scopes: readonly string[];
}

/**
 * A token endpoint answered with a token.
 * @public
 */
export interface TokenFetchEvent {
  readonly type: 'fetch';
  readonly registry: string;
  readonly key: string;
  /** The realm URL, redacted. */
  readonly realm: string;
  readonly anonymous: boolean;
  readonly durationMs: number;
  /** When the manager stops reusing the token (epoch ms, skew already taken off). */
  readonly expiresAt: number;
}

/**
 * A token fetch failed.
 * @public
 */
export interface TokenFetchErrorEvent {
  readonly type: 'fetch-error';
  readonly registry: string;
  readonly key: string;
  readonly realm: string;
  /** The `code` of the thrown `GhcrError`. */
  readonly code: string;
  readonly status?: number;
}

/**
 * An authorization was invalidated (after a 401, or by a caller).
 * @public
 */
export interface TokenInvalidateEvent {
  readonly type: 'invalidate';
  readonly registry: string;
  readonly key: string;
  readonly kind: string;
  /** Whether a cache entry was really dropped (false when a newer token had replaced it). */
  readonly removed: boolean;
}

/**
 * Everything `onEvent` may receive.
 * @public
 */
export type TokenManagerEvent =
  | TokenCacheHitEvent
  | TokenCacheMissEvent
  | TokenFetchEvent
  | TokenFetchErrorEvent
  | TokenInvalidateEvent;
