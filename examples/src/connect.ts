/**
 * Where the examples run. With `GHCR_REGISTRY` set (e.g. `ghcr.io`, `127.0.0.1:5000`) they talk to
 * that registry with credentials from the usual places (GHCR_TOKEN/GITHUB_TOKEN, Docker's
 * config.json, podman, the gh CLI) and `GHCR_OWNER` as the owner of the repositories they write.
 * Without it they start an in-process GHCR simulation, so every example runs anywhere, offline.
 */
import { defaultCredentialChain, staticCredentials } from '@ghcr/auth';
import { createGhcrClient, type GhcrClient } from '@ghcr/client';
import { systemClock } from '@ghcr/oci-types';
import { createSimulation, type Simulation } from '@ghcr/simulation';

export interface ExampleTarget {
  readonly client: GhcrClient;
  /** The owner whose repositories the examples write (`octo-org/…`). */
  readonly owner: string;
  /** The simulation, when the examples run against one. */
  readonly simulation?: Simulation;
  close(): Promise<void>;
}

/** Connects to `GHCR_REGISTRY`, or to a fresh in-process simulation when it is unset. */
export function connect(env: NodeJS.ProcessEnv = process.env, simulation?: Simulation): ExampleTarget {
  const registry = env.GHCR_REGISTRY;
  if (registry !== undefined && registry !== '' && simulation === undefined) {
    const owner = env.GHCR_OWNER;
    if (owner === undefined || owner === '')
      throw new Error('set GHCR_OWNER to the user or organisation to write to');
    const client = createGhcrClient({ registry, credentials: defaultCredentialChain({ env }) });
    return { client, owner, close: () => client.close() };
  }
  const sim = simulation ?? createSimulation({ profile: 'ghcr', clock: systemClock });
  sim.createUser('octocat');
  sim.createOrganization('octo-org', { admins: ['octocat'] });
  const token = sim.createToken({
    user: 'octocat',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const client = createGhcrClient({
    registry: 'ghcr.io',
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: 'octocat', password: token }),
    versions: { apiUrl: sim.options.apiUrl },
  });
  return { client, owner: 'octo-org', simulation: sim, close: () => client.close() };
}

/** Runs `main` when the file is executed directly (`tsx src/x.ts`), printing its result. */
export function runIfMain(url: string, main: (target: ExampleTarget) => Promise<unknown>): void {
  if (
    process.argv[1] === undefined ||
    !url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').slice(-2).join('/'))
  )
    return;
  const target = connect();
  main(target)
    .then((result) => console.log(JSON.stringify(result, null, 2)))
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    })
    .finally(() => target.close());
}
