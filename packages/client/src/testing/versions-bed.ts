/**
 * Test helper: a simulated ghcr client plus its `Versions`, built from the client's parts the way
 * `createGhcrClient` builds its capabilities. Not part of the published API.
 */

import { definedProps } from '@ghcr/oci-types';
import { createVersions, type Versions } from '../github/versions/versions.js';
import type { VersionsOptions } from '../github/versions/versions-options.js';
import type { RegistryDependencies } from '../registry/dependencies.js';
import { contextOf } from './client-context.js';
import { type SimulatedClient, simulatedClient } from './simulated-client.js';

/** @internal */
export interface VersionsBed extends SimulatedClient {
  readonly versions: Versions;
  readonly context: RegistryDependencies;
}

/**
 * A ghcr-profile simulation, a client with an all-scopes PAT of user `octo`, and `Versions` over
 * it. `versions` options default to the simulation's API URL.
 * @internal
 */
export function versionsBed(
  options: {
    readonly profile?: 'ghcr' | 'distribution';
    readonly versions?: VersionsOptions;
    readonly simulation?: Parameters<typeof simulatedClient>[0] extends infer O
      ? O extends { simulation?: infer S }
        ? S
        : never
      : never;
    readonly client?: Parameters<typeof simulatedClient>[0] extends infer O
      ? O extends { client?: infer C }
        ? C
        : never
      : never;
  } = {},
): VersionsBed {
  const bed = simulatedClient({
    ...definedProps({ profile: options.profile, simulation: options.simulation, client: options.client }),
  });
  return { ...bed, ...versionsFor(bed, options.versions) };
}

/** `Versions` over an existing simulated client (another token, other options). @internal */
export function versionsFor(
  bed: Pick<SimulatedClient, 'client' | 'sim'>,
  options: VersionsOptions = {},
): { versions: Versions; context: RegistryDependencies } {
  const { client, sim } = bed;
  const context = contextOf(client);
  const versions = createVersions(
    context,
    { tags: client.tags, manifests: client.manifests },
    { apiUrl: sim.options.apiUrl, ...options },
  );
  return { versions, context };
}
