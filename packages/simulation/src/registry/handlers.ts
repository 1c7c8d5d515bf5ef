import type { RequestHandler } from 'msw';
import type { SimulationContext } from '../context.js';
import { dockerHubOptionsOf } from '../options.js';
import { createBlobHandlers } from './blobs.js';
import { createCdnUrlSigner } from './cdn-url.js';
import { createDiscoveryHandlers } from './discovery.js';
import { createDockerHubWebHandlers } from './dockerhub-web.js';
import type { RegistryEnvironment } from './environment.js';
import { createManifestHandlers } from './manifests.js';
import { createPullQuota } from './pull-quota.js';
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
 * (`options.tokenUrl`), and the blob host on `options.blobUrl` (ghcr, dockerhub), plus, in the
 * dockerhub profile, the docker.io web host and its page; all over the context's
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
    dockerhub: context.options.profile === 'dockerhub',
    uploadStarts: createRegistryRateLimiter(
      context.options.uploadStartsPerMinute,
      () => context.now(),
      'TOOMANYREQUESTS',
    ),
    quota: createPullQuota(dockerHubOptionsOf(context.options), () => context.now()),
    cdn: createCdnUrlSigner(),
  };
  return {
    limiter,
    handlers: [
      ...createDiscoveryHandlers(env),
      ...createUploadHandlers(env),
      ...createManifestHandlers(env),
      ...createBlobHandlers(env),
      ...(env.dockerhub ? createDockerHubWebHandlers(env) : []),
    ],
  };
}
