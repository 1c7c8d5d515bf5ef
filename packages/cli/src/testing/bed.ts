import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DemoSeed, type SimulationServer, seedDemo, startSimulationServer } from '@ghcr/simulation';

/** The OCI image layout skopeo wrote (two platforms, tag `v1`), at the repository root. */
export const LAYOUT_FIXTURE = fileURLToPath(
  new URL('../../../../fixtures/oci-layout-multi', import.meta.url),
);
/** The digest of its index (its `index.json` names it `v1`). */
export const LAYOUT_INDEX_DIGEST = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';

export const sha256 = (bytes: Uint8Array | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A served simulation with the demo seed and a docker config that logs in to it. */
export interface Bed {
  readonly server: SimulationServer;
  readonly seed: DemoSeed;
  /** `127.0.0.1:<port>`. */
  readonly registry: string;
  /** The Packages API base URL (`--api-url`). */
  readonly apiUrl: string;
  readonly env: Record<string, string | undefined>;
}

/** Starts a simulation server (`profile`) with the demo seed, and writes its login to `directory`. */
export async function startBed(directory: string, profile: 'ghcr' | 'distribution'): Promise<Bed> {
  const server = await startSimulationServer({ simulationOptions: { profile } });
  const seed = await seedDemo(server.simulation);
  const registry = new URL(server.url).host;
  const dockerConfig = join(directory, `${profile}-docker`);
  await mkdir(dockerConfig, { recursive: true });
  const auth = Buffer.from(`octocat:${seed.tokens.all}`).toString('base64');
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry]: { auth } } }));
  return {
    server,
    seed,
    registry,
    apiUrl: server.apiUrl,
    env: { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH },
  };
}

/** Writes a docker config that logs in to every bed given, and returns the environment using it. */
export async function sharedLogin(
  directory: string,
  beds: readonly Bed[],
): Promise<Record<string, string | undefined>> {
  const dockerConfig = join(directory, 'shared-docker');
  await mkdir(dockerConfig, { recursive: true });
  const auths: Record<string, { auth: string }> = {};
  for (const bed of beds) {
    auths[bed.registry] = { auth: Buffer.from(`octocat:${bed.seed.tokens.all}`).toString('base64') };
  }
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths }));
  return { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH };
}

/** Every file below `directory` (relative paths, sorted) with its sha256, for comparing trees. */
export async function treeDigests(directory: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  const walk = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else result[relative(directory, path)] = sha256(await readFile(path));
    }
  };
  await walk(directory);
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}

/** A Trivy JSON report with one HIGH finding (CVE-2023-5363 in libcrypto3). */
export const TRIVY_REPORT = JSON.stringify({
  SchemaVersion: 2,
  ArtifactName: 'app',
  ArtifactType: 'container_image',
  Results: [
    {
      Target: 'app (alpine 3.18.4)',
      Class: 'os-pkgs',
      Type: 'alpine',
      Vulnerabilities: [
        {
          VulnerabilityID: 'CVE-2023-5363',
          PkgName: 'libcrypto3',
          InstalledVersion: '3.1.3-r0',
          FixedVersion: '3.1.4-r0',
          Severity: 'HIGH',
          Title: 'openssl: incorrect cipher key and IV length processing',
        },
      ],
    },
  ],
});

/** The artifact type under which the gate reads an attached file as Trivy JSON. */
export const TRIVY_ARTIFACT_TYPE = 'application/vnd.aquasec.trivy.report.v1+json';
