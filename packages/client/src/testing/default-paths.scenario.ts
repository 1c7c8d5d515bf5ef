import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCredentialChain } from '@ghcr/auth';
import { formatPlatform } from '@ghcr/manifest';
import { GhcrError } from '@ghcr/oci-types';
import { PACKAGE_SCOPES } from '@ghcr/simulation';
import type { RealNamesContext } from '@ghcr/test-support';
import { createGhcrClient } from '../client.js';

/** What the library test hands the scenario. */
export interface DefaultPathsInput {
  /** `'round-trip'`: push, inspect, pull, versions; `'untrusted'`: one inspect, to see the error. */
  readonly mode: 'round-trip' | 'untrusted';
  /** The OCI layout pushed. */
  readonly layout: string;
  /** The user and token of `GITHUB_TOKEN` (the stand-in GitHub learns them here). */
  readonly actor: string;
  readonly token: string;
}

/** What it reports back. */
export type DefaultPathsResult =
  | {
      readonly mode: 'round-trip';
      readonly pushed: string;
      readonly inspected: { readonly digest: string; readonly platforms: readonly string[] };
      readonly pulled: { readonly digest: string; readonly blobs: number };
      readonly versions: readonly { readonly digest: string; readonly tags: readonly string[] }[];
      readonly operations: readonly string[];
    }
  | { readonly mode: 'untrusted'; readonly error: { readonly code: string; readonly message: string } };

/**
 * The library as a user writes it: `createGhcrClient({ credentials: defaultCredentialChain() })`,
 * nothing else, so ghcr.io, https, port 443 and https://api.github.com are the defaults at work.
 */
export default async function defaultPaths(context: RealNamesContext): Promise<DefaultPathsResult> {
  const input = context.input as DefaultPathsInput;
  const ghcr = context.simulations.get('ghcr');
  if (ghcr === undefined) throw new Error('the ghcr stand-in is not running');
  ghcr.createOrganization('octo-org', { admins: [input.actor] });
  ghcr.createToken({ user: input.actor, scopes: PACKAGE_SCOPES, token: input.token });
  const client = createGhcrClient({ credentials: defaultCredentialChain() });
  try {
    if (input.mode === 'untrusted') {
      try {
        await client.images.inspect('ghcr.io/octo-org/app:1.0.0');
      } catch (error) {
        if (!GhcrError.isInstance(error)) throw error;
        return { mode: 'untrusted', error: { code: error.code, message: error.message } };
      }
      throw new Error('inspect succeeded without the test CA');
    }
    const pushed = await client.images.push('ghcr.io/octo-org/app:1.0.0', { layout: input.layout });
    const inspection = await client.images.inspect('ghcr.io/octo-org/app:1.0.0');
    const directory = join(context.workDirectory, 'pulled');
    const pulled = await client.images.pull('ghcr.io/octo-org/app:1.0.0', directory);
    const versions = await client.versions.list('octo-org/app');
    return {
      mode: 'round-trip',
      pushed: pushed.descriptor.digest,
      inspected: {
        digest: inspection.digest,
        platforms: inspection.platforms.map((platform) => formatPlatform(platform)),
      },
      pulled: {
        digest: pulled.descriptor.digest,
        blobs: readdirSync(join(directory, 'blobs', 'sha256')).length,
      },
      versions: versions.map((version) => ({
        digest: version.name,
        tags: [...(version.metadata?.container?.tags ?? [])].sort(),
      })),
      operations: ghcr.log.entries.map((entry) => entry.operation ?? '?'),
    };
  } finally {
    await client.close();
  }
}
