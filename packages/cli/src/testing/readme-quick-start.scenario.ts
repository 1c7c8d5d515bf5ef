import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { definedProps } from '@ghcr/oci-types';
import { PACKAGE_SCOPES, seedDockerHub } from '@ghcr/simulation';
import type { CommandOutcome, RealNamesContext } from '@ghcr/test-support';

/** What the README test hands the scenario. */
export interface QuickStartInput {
  /** The shell lines, in order. */
  readonly commands: readonly string[];
  /** The OCI layout copied to `./oci-layout`. */
  readonly layout: string;
  /** `GITHUB_ACTOR` and `GITHUB_TOKEN` of the run: the stand-in GitHub knows this user and token. */
  readonly actor: string;
  readonly token: string;
}

/** What it reports back. */
export interface QuickStartResult {
  readonly outcomes: readonly CommandOutcome[];
  /** For each command, the `seq` of the first front request it made (the next command's is its end). */
  readonly firstRequests: readonly number[];
  /** Tags of the two repositories afterwards. */
  readonly tags: Readonly<Record<string, readonly string[]>>;
  /** The simulation's operations, in order (`manifest.put`, `api.versions.list`, …). */
  readonly operations: readonly string[];
  /** The digest of `library/alpine:3` on the Docker Hub stand-in, when it runs. */
  readonly alpine?: string;
}

/**
 * The README's quick start, line by line, in a directory holding `./oci-layout`, as `$GITHUB_ACTOR`
 * (an admin of octo-org) with `$GITHUB_TOKEN`; Docker Hub's stand-in, when asked for, holds
 * `library/alpine` and `library/busybox`.
 */
export default async function quickStart(context: RealNamesContext): Promise<QuickStartResult> {
  const input = context.input as QuickStartInput;
  const ghcr = context.simulations.get('ghcr');
  if (ghcr === undefined) throw new Error('the ghcr stand-in is not running');
  ghcr.createOrganization('octo-org', { admins: [input.actor] });
  ghcr.createToken({ user: input.actor, scopes: PACKAGE_SCOPES, token: input.token });
  // Docker Hub's official images (library/alpine: a two-platform index), when its stand-in runs.
  const hub = context.simulations.get('dockerhub');
  const alpine = hub === undefined ? undefined : (await seedDockerHub(hub)).alpine.index.digest;
  cpSync(input.layout, join(context.workDirectory, 'oci-layout'), { recursive: true });
  const outcomes: CommandOutcome[] = [];
  const firstRequests: number[] = [];
  for (const command of input.commands) {
    firstRequests.push(context.requests().length + 1);
    outcomes.push(await context.run(command));
  }
  const tags: Record<string, string[]> = {};
  for (const repository of ['octo-org/app', 'octo-org/app-mirror', 'octo-org/alpine']) {
    tags[repository] = [...(ghcr.state.getRepository(repository)?.tags.keys() ?? [])].sort();
  }
  return {
    outcomes,
    firstRequests,
    tags,
    operations: ghcr.log.entries.map((entry) => entry.operation ?? '?'),
    ...definedProps({ alpine }),
  };
}
