import { GhcrErrorCode, InvalidInputError, lazySchema, ProtocolError } from '@ghcr/oci-types';
import * as z from 'zod';
import { type GithubApi, getApiObject } from './github-api.js';
import type { OwnerType } from './versions-options.js';

/** What `GET /users/{name}` must carry for the detection (the rest is ignored). */
const ownerObjectSchema = lazySchema(() => z.looseObject({ login: z.string(), type: z.string() }));

/** GitHub logins: 1–39 letters, digits or single hyphens, not starting with a hyphen. */
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/;

/**
 * Checks a GitHub login (the owner of a package).
 * @throws InvalidInputError saying what a login looks like.
 * @internal
 */
export function checkOwner(owner: string): string {
  if (!LOGIN.test(owner)) {
    throw new InvalidInputError(
      `invalid GitHub owner "${owner}": a user or organization login is 1 to 39 letters, digits or "-", not starting with "-"`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: owner },
    );
  }
  return owner;
}

/**
 * Detects whether owners are organizations or users with `GET /users/{name}` (its `type`), one
 * request per owner for the lifetime of the cache (concurrent asks share it; a failure is not
 * cached).
 * @internal
 */
export function createOwnerTypeCache(
  api: GithubApi,
  apiUrl: string,
): (owner: string, signal?: AbortSignal) => Promise<OwnerType> {
  const cache = new Map<string, Promise<OwnerType>>();
  const detect = async (owner: string, signal: AbortSignal | undefined): Promise<OwnerType> => {
    const url = `${apiUrl}/users/${encodeURIComponent(owner)}`;
    const request = {
      operation: 'versions.owner',
      method: 'GET' as const,
      url,
      signal,
      target: { action: 'detect the owner type of' as const, owner, apiVersion: api.apiVersion },
    };
    const user = await getApiObject(api, request, ownerObjectSchema, 'a GitHub user object');
    if (user.type === 'Organization') return 'org';
    if (user.type === 'User') return 'user';
    throw new ProtocolError(
      `GET "${url}": "${owner}" is a GitHub ${user.type}, which cannot own packages as far as @ghcr/client knows; pass ownerType ('org', 'user' or 'authenticated-user') to say which Packages API path to use`,
      { code: GhcrErrorCode.UNEXPECTED_RESPONSE },
    );
  };
  return (owner, signal) => {
    const key = owner.toLowerCase();
    let pending = cache.get(key);
    if (pending === undefined) {
      pending = detect(owner, signal);
      cache.set(key, pending);
      pending.catch(() => {
        if (cache.get(key) === pending) cache.delete(key);
      });
    }
    return pending;
  };
}
