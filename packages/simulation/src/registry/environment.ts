import type { PathParams } from 'msw';
import type { SimulationContext } from '../context.js';
import type { CdnUrlSigner } from './cdn-url.js';
import type { PullQuota } from './pull-quota.js';
import type { RegistryRateLimiter } from './rate-limit.js';
import type { RegistryRoutes } from './routes.js';
import type { BlobUrlSigner } from './signed-url.js';

/**
 * What the registry handler modules share.
 * @internal
 */
export interface RegistryEnvironment {
  readonly context: SimulationContext;
  readonly routes: RegistryRoutes;
  readonly limiter: RegistryRateLimiter;
  readonly signer: BlobUrlSigner;
  readonly ghcr: boolean;
  /** The dockerhub profile. */
  readonly dockerhub: boolean;
  /** ghcr profile: the budget of upload POSTs (2000/minute reported). */
  readonly uploadStarts: RegistryRateLimiter;
  /** dockerhub profile: the pull quota. */
  readonly quota: PullQuota;
  /** dockerhub profile: the CDN's signed URLs. */
  readonly cdn: CdnUrlSigner;
}

/** A path parameter as a string ('' when absent). @internal */
export function param(params: PathParams, name: string): string {
  const value = params[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return '';
}
