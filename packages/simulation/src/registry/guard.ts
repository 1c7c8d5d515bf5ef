import { isValidRepositoryName, MAX_NAME_LENGTH } from '@ghcr/oci-types';
import type { RegistryAction } from '../auth/tokens.js';
import { authorize, type RegistryPrincipal } from './auth.js';
import type { RegistryEnvironment } from './environment.js';
import { registryError } from './errors.js';

/**
 * The prologue of every repository route: the ghcr request budget, the name grammar, then
 * authorisation for `actions`. Returns the principal, or the response to send instead.
 * @internal
 */
export function guard(
  env: RegistryEnvironment,
  request: Request,
  name: string,
  actions: readonly RegistryAction[],
): RegistryPrincipal | Response {
  const limited = env.ghcr ? env.limiter.take() : undefined;
  if (limited !== undefined) return limited;
  if (!isValidRepositoryName(name) || name.length > MAX_NAME_LENGTH) {
    return registryError(400, 'NAME_INVALID', { detail: { name } });
  }
  return authorize(env.context, request, name, actions);
}

/** Location path of a blob. @internal */
export function blobPath(name: string, digest: string): string {
  return `/v2/${name}/blobs/${digest}`;
}

/** Location path of a manifest. @internal */
export function manifestPath(name: string, reference: string): string {
  return `/v2/${name}/manifests/${reference}`;
}
