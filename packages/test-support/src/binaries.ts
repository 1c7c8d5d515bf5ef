/**
 * The external programs the integration tests and benchmarks run (Debian's `docker-registry`,
 * `skopeo`, `openssl`): where they are, how to install them, and whether a run may skip without them.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The Debian package of each program the tests use (a program not listed is its own package). */
const DEBIAN_PACKAGE: Readonly<Record<string, string>> = {
  'docker-registry': 'docker-registry',
  skopeo: 'skopeo',
  openssl: 'openssl',
  unshare: 'util-linux',
  mount: 'mount',
  ip: 'iproute2',
};

/**
 * The command that installs `binaries` on Debian/Ubuntu, e.g.
 * `apt-get update && apt-get install -y docker-registry skopeo`.
 * @internal
 */
export function installHint(binaries: readonly string[]): string {
  const packages = [...new Set(binaries.map((binary) => DEBIAN_PACKAGE[binary] ?? binary))];
  return `apt-get update && apt-get install -y ${packages.join(' ')}`;
}

/**
 * Where a program is: the first executable `name` in a directory of `PATH`, or `name` itself when
 * it is a path (contains `/`) to an executable file. `undefined` when there is none.
 * @internal
 */
export function findBinary(name: string, path: string | undefined = process.env.PATH): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : (path ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((directory) => join(directory, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here (or not executable): try the next directory.
    }
  }
  return undefined;
}

/**
 * Whether the tests that need some programs can run.
 * @internal
 */
export interface IntegrationAvailability {
  /** Every program was found. */
  readonly available: boolean;
  /** The programs that were not found (empty when `available`). */
  readonly missing: readonly string[];
  /** A missing program must fail the run instead of skipping it: `CI=true`, so CI cannot skip silently. */
  readonly mustFail: boolean;
  /** Why the tests cannot run, with the install command; empty when `available`. */
  readonly reason: string;
}

/**
 * Checks that `binaries` are on `PATH`; when some are not, says which, how to install them, and
 * whether that must fail the run (`env.CI === 'true'`) rather than skip it.
 * @param binaries - Program names. If omitted, `['docker-registry']`.
 * @param env - The environment to read `PATH` and `CI` from. If omitted, `process.env`.
 * @internal
 */
export function integrationAvailability(
  binaries: readonly string[] = ['docker-registry'],
  env: Readonly<Record<string, string | undefined>> = process.env,
): IntegrationAvailability {
  const missing = binaries.filter((binary) => findBinary(binary, env.PATH) === undefined);
  if (missing.length === 0) return { available: true, missing, mustFail: false, reason: '' };
  return {
    available: false,
    missing,
    mustFail: env.CI === 'true',
    reason: `${missing.join(' and ')} not found on PATH: install with \`${installHint(missing)}\` to run these tests`,
  };
}
