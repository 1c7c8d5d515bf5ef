import type { RequestHandler } from 'msw';
import type { SimulationContext } from '../context.js';
import { createBlobHandlers } from './blobs.js';
import { createDiscoveryHandlers } from './discovery.js';
import type { RegistryEnvironment } from './environment.js';
import { createManifestHandlers } from './manifests.js';
import { createRegistryRateLimiter, type RegistryRateLimiter } from './rate-limit.js';
import { registryRoutes } from './routes.js';
import { createBlobUrlSigner } from './signed-url.js';
import { createUploadHandlers } from './uploads.js';

/**
 * The registry handlers with the hooks the simulation needs.
 * @internal
 */
export interface RegistryHandlerSet {
  readonly handlers: RequestHandler[];
  readonly limiter: RegistryRateLimiter;
}

/**
 * msw handlers for the OCI distribution API (v1.1) on `options.registryUrl`, the token endpoint
 * `/token`, and, in the ghcr profile, the blob host on `options.blobUrl`; all over the context's
 * state. Use them with msw's `setupServer` for code that calls `fetch`, or through
 * `simulation.dispatcher()` / `startSimulationServer()`.
 * @public
 */
export function createRegistryHandlers(context: SimulationContext): RequestHandler[] {
  return createRegistryHandlerSet(context).handlers;
}

/** @internal */
export function createRegistryHandlerSet(context: SimulationContext): RegistryHandlerSet {
  const limiter = createRegistryRateLimiter(context.options.registryRequestsPerMinute, () => context.now());
  const env: RegistryEnvironment = {
    context,
    routes: registryRoutes(context.options),
    limiter,
    signer: createBlobUrlSigner(),
    ghcr: context.options.profile === 'ghcr',
  };
  return {
    limiter,
    handlers: [
      ...createDiscoveryHandlers(env),
      ...createUploadHandlers(env),
      ...createManifestHandlers(env),
      ...createBlobHandlers(env),
    ],
  };
}
