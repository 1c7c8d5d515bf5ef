import { createHash } from 'node:crypto';
import type { ResolvedDockerHubOptions } from '../options.js';
import { registryError } from './errors.js';

/** Hub's 429 message for an anonymous client over its quota (docker/docs `usage/pulls.md`). @internal */
export const HUB_ANONYMOUS_LIMIT_MESSAGE =
  'You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit';

/**
 * The message for a signed-in account over its quota. Hub names the account; the exact wording
 * of this variant is not documented, so this one only follows the anonymous message's shape.
 * @internal
 */
export function hubAccountLimitMessage(user: string): string {
  return `You have reached your pull rate limit as '${user}'. You may increase the limit by upgrading. https://www.docker.com/increase-rate-limit`;
}

/**
 * Who a pull is counted against: a signed-in account, or else the client's source address.
 * @internal
 */
export interface PullIdentity {
  readonly user?: string;
  readonly address: string;
}

/**
 * Docker Hub's pull quota: manifest GETs count (each one: a multi-arch pull counts once per
 * manifest fetched), HEADs do not; both carry `ratelimit-limit: N;w=S`,
 * `ratelimit-remaining: N;w=S` and `docker-ratelimit-source`. The window slides on the
 * simulation clock: a pull stops counting `windowSeconds` after it was made.
 * @internal
 */
export interface PullQuota {
  /**
   * Accounts for a manifest request: returns the headers to add, or the 429 to answer instead
   * (a GET over the quota, which then does not count).
   */
  apply(identity: PullIdentity, method: string): Record<string, string> | Response;
  /** Pulls counted against `source` in the current window. */
  used(source: string): number;
}

/** A stable, UUID-shaped account id for a user (Hub reports account ids, not names). @internal */
export function hubAccountId(user: string): string {
  const hex = createHash('sha256').update(`dockerhub-account:${user}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** @internal */
export function createPullQuota(options: ResolvedDockerHubOptions, now: () => number): PullQuota {
  const pulls = new Map<string, number[]>();
  const windowMs = options.windowSeconds * 1000;
  const unlimited = new Set(options.unlimitedUsers);
  const inWindow = (source: string): number[] => {
    const since = now() - windowMs;
    const kept = (pulls.get(source) ?? []).filter((at) => at > since);
    pulls.set(source, kept);
    return kept;
  };
  return {
    used: (source) => inWindow(source).length,
    apply(identity, method) {
      if (identity.user !== undefined && unlimited.has(identity.user)) return {};
      const source = identity.user === undefined ? identity.address : hubAccountId(identity.user);
      const limit = identity.user === undefined ? options.anonymousPullLimit : options.authenticatedPullLimit;
      const window = `;w=${options.windowSeconds}`;
      const made = inWindow(source);
      const headers = (remaining: number): Record<string, string> => ({
        'ratelimit-limit': `${limit}${window}`,
        'ratelimit-remaining': `${Math.max(0, remaining)}${window}`,
        'docker-ratelimit-source': source,
      });
      if (method !== 'GET') return headers(limit - made.length);
      if (made.length >= limit) {
        return registryError(429, 'TOOMANYREQUESTS', {
          message:
            identity.user === undefined ? HUB_ANONYMOUS_LIMIT_MESSAGE : hubAccountLimitMessage(identity.user),
          headers: headers(0),
        });
      }
      made.push(now());
      return headers(limit - made.length);
    },
  };
}

/**
 * The source address of a request: the first `X-Forwarded-For` entry (the loopback server adds
 * the peer's address when the client sent none), else `fallback`.
 * @internal
 */
export function sourceAddressOf(request: Request, fallback: string): string {
  const forwarded = request.headers.get('x-forwarded-for');
  const first = forwarded?.split(',')[0]?.trim();
  return first === undefined || first === '' ? fallback : first;
}
