import type { Simulation } from '../simulation.js';
import { type DemoRelease, release } from './demo.js';

/**
 * Options of {@link seedOrganization}.
 * @public
 */
export interface SeedOrganizationOptions {
  /** The organisation. If omitted, `big-org`. */
  readonly owner?: string | undefined;
  /** Its administrator (created). If omitted, `octocat`. */
  readonly admin?: string | undefined;
  /** How many container packages (`pkg-001` …). If omitted, 200. */
  readonly packages?: number | undefined;
  /** Multi-arch releases per package (`1.0.0`, `1.1.0`, …), one simulated minute apart. If omitted, 2. */
  readonly releases?: number | undefined;
}

/**
 * What {@link seedOrganization} created.
 * @public
 */
export interface OrganizationSeed {
  readonly owner: string;
  readonly admin: string;
  /** A token of the admin with read, write and delete:packages. */
  readonly token: string;
  /** Each package, sorted by name, with its releases oldest first. */
  readonly packages: readonly { readonly name: string; readonly releases: readonly DemoRelease[] }[];
}

/**
 * Seeds an organisation with many packages, each holding `releases` multi-arch releases (an OCI
 * index → linux/amd64 and linux/arm64/v8 images → a BuildKit attestation each: five versions per
 * release), stored directly (no HTTP) with real bytes, like {@link seedDemo}. For tests of
 * cleanups at organisation scale (API budgets, resuming).
 * @public
 */
export async function seedOrganization(
  simulation: Simulation,
  options: SeedOrganizationOptions = {},
): Promise<OrganizationSeed> {
  const owner = options.owner ?? 'big-org';
  const admin = options.admin ?? 'octocat';
  simulation.createUser(admin);
  simulation.createOrganization(owner, { admins: [admin] });
  const token = simulation.createToken({
    user: admin,
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const count = options.packages ?? 200;
  const width = Math.max(3, String(count).length);
  const packages: { name: string; releases: DemoRelease[] }[] = [];
  for (let i = 1; i <= count; i++)
    packages.push({ name: `pkg-${String(i).padStart(width, '0')}`, releases: [] });
  for (let r = 0; r < (options.releases ?? 2); r++) {
    for (const pkg of packages) {
      pkg.releases.push(await release(simulation, `${owner}/${pkg.name}`, `1.${r}.0`, false));
    }
    const clock = simulation.clock as { advance?: (ms: number) => Promise<void> };
    await clock.advance?.(60_000);
  }
  return { owner, admin, token, packages };
}
