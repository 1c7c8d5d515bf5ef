import { spawnSync } from 'node:child_process';
import {
  findBinary,
  type IntegrationAvailability,
  installHint,
  integrationAvailability,
} from '../binaries.js';

/**
 * How to enter a private mount and network namespace on this machine, or why it cannot be done.
 * @internal
 */
export interface NamespaceAvailability extends IntegrationAvailability {
  /**
   * The `unshare` command line that worked (`['/usr/bin/unshare', '--mount', '--net']` as root, with
   * `'--map-root-user'` added when only a user namespace gives the rights); empty when not available.
   */
  readonly unshare: readonly string[];
}

const TRIES: readonly (readonly string[])[] = [
  ['--mount', '--net'],
  ['--map-root-user', '--mount', '--net'],
];

/**
 * Checks that the real-names harness can run here: `unshare`, `ip` and `mount` (util-linux,
 * iproute2) are installed, and `unshare --mount --net` (or, unprivileged, with `--map-root-user`)
 * works, i.e. the kernel and the sandbox allow new namespaces. When not, says why, how to fix it,
 * and whether that must fail the run (`CI=true`).
 * @param env - Where `PATH` and `CI` are read. If omitted, `process.env`.
 * @internal
 */
export function namespaceAvailability(
  env: Readonly<Record<string, string | undefined>> = process.env,
): NamespaceAvailability {
  const binaries = integrationAvailability(['unshare', 'ip', 'mount', 'openssl'], env);
  if (!binaries.available) return { ...binaries, unshare: [] };
  const unshare = findBinary('unshare', env.PATH) ?? 'unshare';
  const errors: string[] = [];
  for (const flags of TRIES) {
    const probe = spawnSync(unshare, [...flags, '--', 'ip', 'link', 'set', 'lo', 'up'], {
      encoding: 'utf8',
      env: { PATH: env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    if (probe.status === 0) {
      return { available: true, missing: [], mustFail: false, reason: '', unshare: [unshare, ...flags] };
    }
    errors.push(`unshare ${flags.join(' ')}: ${(probe.stderr ?? probe.error?.message ?? '').trim()}`);
  }
  return {
    available: false,
    missing: ['a private network namespace'],
    mustFail: env.CI === 'true',
    reason: `cannot make a private mount and network namespace (${errors.join('; ')}): run as root, or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1); the programs come from \`${installHint(['unshare', 'ip', 'mount'])}\``,
    unshare: [],
  };
}
