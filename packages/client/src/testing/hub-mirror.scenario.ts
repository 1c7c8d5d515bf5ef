import { defaultCredentialChain } from '@ghcr/auth';
import { formatPlatform } from '@ghcr/manifest';
import { PACKAGE_SCOPES, seedDockerHub } from '@ghcr/simulation';
import type { FrontRequest, RealNamesContext } from '@ghcr/test-support';
import { createGhcrClient } from '../client.js';

/** What the library's Hub → GHCR test hands the scenario. */
export interface HubMirrorInput {
  /** The GitHub user and token of `GITHUB_TOKEN` (the ghcr.io stand-in learns them here). */
  readonly actor: string;
  readonly token: string;
}

/** What it reports back. */
export interface HubMirrorResult {
  /** The digest of `library/alpine:3` on the Hub stand-in (a two-platform index). */
  readonly sourceDigest: string;
  /** What the copy says it copied, and what ghcr.io then answers for the tag. */
  readonly copied: { readonly digest: string; readonly registry: string; readonly repository: string };
  readonly inspected: { readonly digest: string; readonly platforms: readonly string[] };
  /** The front's requests made during the copy alone. */
  readonly copyRequests: readonly FrontRequest[];
  /** The same for a second, identical copy (the mirror job run again, nothing new on Hub). */
  readonly againRequests: readonly FrontRequest[];
  /** The Hub stand-in's log during the copy: `METHOD host path status operation`. */
  readonly hubLog: readonly string[];
}

/**
 * Mirrors `docker.io/library/alpine:3` into `ghcr.io/octo-org/alpine:3` with one client, as a user
 * writes it: `createGhcrClient({ credentials: defaultCredentialChain() })` and `GITHUB_TOKEN`.
 */
export default async function hubMirror(context: RealNamesContext): Promise<HubMirrorResult> {
  const input = context.input as HubMirrorInput;
  const ghcr = context.simulations.get('ghcr');
  const hub = context.simulations.get('dockerhub');
  if (ghcr === undefined || hub === undefined)
    throw new Error('the ghcr and dockerhub stand-ins must be running');
  ghcr.createOrganization('octo-org', { admins: [input.actor] });
  ghcr.createToken({ user: input.actor, scopes: PACKAGE_SCOPES, token: input.token });
  const seed = await seedDockerHub(hub);
  const client = createGhcrClient({ credentials: defaultCredentialChain() });
  try {
    hub.log.clear();
    const before = context.requests().length;
    const copied = await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo-org/alpine:3');
    const copyRequests = context.requests().slice(before);
    const hubLog = hub.log.entries.map(
      (entry) => `${entry.method} ${entry.host}${entry.path} ${entry.status} ${entry.operation ?? '?'}`,
    );
    const again = context.requests().length;
    await client.images.copy('docker.io/library/alpine:3', 'ghcr.io/octo-org/alpine:3');
    const againRequests = context.requests().slice(again);
    const inspection = await client.images.inspect('ghcr.io/octo-org/alpine:3');
    return {
      sourceDigest: seed.alpine.index.descriptor.digest,
      copied: { digest: copied.descriptor.digest, registry: copied.registry, repository: copied.repository },
      inspected: {
        digest: inspection.digest,
        platforms: inspection.platforms.map((platform) => formatPlatform(platform)),
      },
      copyRequests,
      againRequests,
      hubLog,
    };
  } finally {
    await client.close();
  }
}
