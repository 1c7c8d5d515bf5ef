/**
 * Where the tests that run a bundle under Node 24 find it (the Action's bundle: `runs.using:
 * node24`; the `ghcr` executable, which loads itself another way on Node 20): `GHCR_NODE24` (a path
 * to a `node` binary), this process when it is Node 24, or the cache directory `.ci/run` installs
 * the npm registry's `node@24` package into. Missing, the tests skip with the install command,
 * except under `CI=true`, where they fail (as `@ghcr/test-support`'s integration plan decides).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { IntegrationAvailability } from './binaries.js';

/** The directory `.ci/run` installs `node@24` into (`npm install --prefix DIR node@24`). @internal */
export function node24CacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ghcr', 'node24');
}

/** The Node 24 binary, or undefined. @internal */
export function findNode24(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.GHCR_NODE24;
  if (given !== undefined && given !== '') return existsSync(given) ? given : undefined;
  if (process.versions.node.split('.')[0] === '24') return process.execPath;
  const cached = join(node24CacheDirectory(env), 'node_modules', 'node', 'bin', 'node');
  return existsSync(cached) ? cached : undefined;
}

/** Whether the Node 24 tests can run, for `describeWithBinaries`. @internal */
export function node24Availability(env: NodeJS.ProcessEnv = process.env): IntegrationAvailability & {
  readonly node?: string;
} {
  const node = findNode24(env);
  if (node !== undefined) return { available: true, missing: [], mustFail: false, reason: '', node };
  const reason =
    env.GHCR_NODE24 !== undefined && env.GHCR_NODE24 !== ''
      ? `GHCR_NODE24=${env.GHCR_NODE24} does not exist; point it at a Node 24 binary`
      : `Node 24 not found; install it with: npm install --prefix ${node24CacheDirectory(env)} --no-save node@24 (or set GHCR_NODE24)`;
  return { available: false, missing: ['node 24'], mustFail: env.CI === 'true', reason };
}
