/**
 * The token cache: tokens keyed by registry, realm, service and scopes, served to any request
 * whose scopes they cover until they expire (oras `auth/cache.go`).
 */

import type { Clock } from '@ghcr/oci-types';
import { formatScope, type Scope, scopesCover } from '../scope.js';
import { type Authorization, withHeader } from './authorization.js';

/**
 * A token from a realm, as the cache keeps it.
 * @internal
 */
export interface CachedToken {
  /** Tells this token from a newer one stored under the same key. */
  readonly id: number;
  readonly key: string;
  readonly registry: string;
  readonly scopes: readonly Scope[];
  readonly token: string;
  readonly expiresAt: number;
  readonly anonymous: boolean;
  readonly source: string;
}

/**
 * See {@link createTokenCache}.
 * @internal
 */
export interface TokenCache {
  /** A new entry (with its own id), not stored yet. */
  entry(fields: Omit<CachedToken, 'id'>): CachedToken;
  /** Stores `entry` under its key, unless it has already expired. */
  store(entry: CachedToken): void;
  /**
   * The live token of `registry` covering `scopes`: the one with the fewest extra rights, then
   * the one that lives longest. Expired entries are dropped on the way.
   */
  covering(registry: string, scopes: readonly Scope[]): CachedToken | undefined;
  /** The `token` authorization of `entry`. */
  authorizationOf(entry: CachedToken): Authorization;
  /**
   * Drops the entry `authorization` came from, only if its key still holds that very token;
   * returns whether it did.
   */
  forget(authorization: Authorization): boolean;
  /** Drops the entry of `key`, whatever it holds; returns it. */
  forgetKey(key: string): CachedToken | undefined;
  /** Drops every entry (of one registry, if given). */
  clear(registry?: string): void;
}

/**
 * Creates an empty token cache; `clock` decides expiry.
 * @internal
 */
export function createTokenCache(clock: Clock): TokenCache {
  const entries = new Map<string, CachedToken>();
  const entryOf = new WeakMap<Authorization, number>();
  let nextId = 1;
  return {
    entry: (fields) => ({ id: nextId++, ...fields }),
    store(entry) {
      if (entry.expiresAt > clock.now()) entries.set(entry.key, entry);
    },
    covering(registry, scopes) {
      const now = clock.now();
      let best: CachedToken | undefined;
      for (const [key, entry] of entries) {
        if (entry.expiresAt <= now) {
          entries.delete(key);
          continue;
        }
        if (entry.registry !== registry || !scopesCover(entry.scopes, scopes)) continue;
        if (
          best === undefined ||
          entry.scopes.length < best.scopes.length ||
          (entry.scopes.length === best.scopes.length && entry.expiresAt > best.expiresAt)
        ) {
          best = entry;
        }
      }
      return best;
    },
    authorizationOf(entry) {
      const authorization = withHeader(
        {
          kind: 'token',
          registry: entry.registry,
          scopes: entry.scopes.map(formatScope),
          anonymous: entry.anonymous,
          source: entry.source,
          expiresAt: entry.expiresAt,
          key: entry.key,
        },
        `Bearer ${entry.token}`,
      );
      entryOf.set(authorization, entry.id);
      return authorization;
    },
    forget(authorization) {
      const key = authorization.key ?? '';
      const entry = entries.get(key);
      if (entry === undefined || entry.id !== entryOf.get(authorization)) return false;
      entries.delete(key);
      return true;
    },
    forgetKey(key) {
      const entry = entries.get(key);
      entries.delete(key);
      return entry;
    },
    clear(registry) {
      if (registry === undefined) {
        entries.clear();
        return;
      }
      for (const [key, entry] of entries) if (entry.registry === registry) entries.delete(key);
    },
  };
}
