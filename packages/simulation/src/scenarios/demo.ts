import { buildArtifactManifest, buildImageManifest, cosignTagsFor, referrersTagFor } from '@ghcr/manifest';
import { type Descriptor, digestOf, MediaType, type Platform } from '@ghcr/oci-types';
import type { Simulation } from '../simulation.js';
import {
  type PushedImage,
  type PushedManifest,
  pushBlob,
  pushImage,
  pushIndex,
  pushManifest,
} from './push.js';

/**
 * Options of {@link seedDemo}.
 * @public
 */
export interface SeedDemoOptions {
  /** The organisation that owns the demo packages. If omitted, `octo-org`. */
  readonly owner?: string | undefined;
  /** The user administering it (and owning `hello`). If omitted, `octocat`. */
  readonly admin?: string | undefined;
  /** Multi-arch releases of `<owner>/app` (tags `1.0.0`, `1.1.0`, …; `latest` on the last). If omitted, 2. */
  readonly releases?: number | undefined;
  /** Single-arch versions of `<owner>/many` (tags `v1` … `vN`). If omitted, 25. */
  readonly manyVersions?: number | undefined;
  /** Move a manual clock one minute forward between versions (distinct created_at). If omitted, true. */
  readonly advanceClock?: boolean | undefined;
  /**
   * The `artifactType` of the Sigstore bundle's entry in the `sha256-<hex>` fallback index. If
   * omitted, the bundle's own type (`application/vnd.dev.sigstore.bundle.v0.3+json`). Pass
   * `MediaType.OciEmpty` (`application/vnd.oci.empty.v1+json`) for what GitHub's attest action has
   * been seen to leave on ghcr.io (NVIDIA/aicr#1957): the entry says "empty", the manifest it
   * points at is the bundle.
   */
  readonly fallbackIndexArtifactType?: string | undefined;
}

/**
 * One multi-arch release of the demo app.
 * @public
 */
export interface DemoRelease {
  readonly tag: string;
  /** The OCI index (tagged). */
  readonly index: PushedManifest;
  /** linux/amd64 and linux/arm64 images (untagged children). */
  readonly platforms: readonly PushedImage[];
  /** BuildKit attestation manifests (`unknown/unknown` entries), one per platform (untagged). */
  readonly attestations: readonly PushedManifest[];
}

/**
 * What {@link seedDemo} created.
 * @public
 */
export interface DemoSeed {
  readonly owner: string;
  readonly admin: string;
  /** PATs of the admin: `read` (read:packages), `write` (write:packages), `delete` (read+delete), `all`. */
  readonly tokens: {
    readonly read: string;
    readonly write: string;
    readonly delete: string;
    readonly all: string;
  };
  /** `<owner>/app`: multi-arch releases, a Sigstore bundle at the `sha256-<hex>` fallback tag of the latest, cosign `.sig`/`.att` tags, an untagged orphan. */
  readonly app: {
    readonly repository: string;
    readonly releases: readonly DemoRelease[];
    /** The index at the referrers fallback tag of the latest release. */
    readonly referrersIndex: PushedManifest;
    /** The Sigstore bundle artifact listed in it (its `subject` is the latest release index). */
    readonly bundle: PushedManifest;
    /** cosign legacy signature at `sha256-<hex>.sig`. */
    readonly cosignSignature: PushedManifest;
    /** cosign legacy attestation at `sha256-<hex>.att`. */
    readonly cosignAttestation: PushedManifest;
    /** An image whose tag (`dev`) moved on: now untagged. */
    readonly orphan: PushedImage;
    /** The image `dev` points at now. */
    readonly dev: PushedImage;
  };
  /** `<owner>/many`: N single-arch versions tagged `v1` … `vN`. */
  readonly many: { readonly repository: string; readonly versions: readonly PushedImage[] };
  /** `<admin>/hello`: a public, user-owned single-arch image tagged `latest`. */
  readonly hello: { readonly repository: string; readonly image: PushedImage };
}

const PLATFORMS: readonly Platform[] = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux', variant: 'v8' },
];

async function tick(simulation: Simulation, enabled: boolean): Promise<void> {
  const clock = simulation.clock as { advance?: (ms: number) => Promise<void> };
  if (enabled && typeof clock.advance === 'function') await clock.advance(60_000);
}

/** A BuildKit-style attestation manifest for `subject` (provenance as an in-toto layer). */
async function buildkitAttestation(
  simulation: Simulation,
  repository: string,
  subject: PushedImage,
): Promise<PushedManifest> {
  const statement = JSON.stringify({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{ name: `pkg:docker/${repository}`, digest: { sha256: subject.digest.slice(7) } }],
    predicate: { builder: { id: 'https://github.com/actions/runner' } },
  });
  const layer = await pushBlob(simulation, repository, statement, 'application/vnd.in-toto+json');
  const config = await pushBlob(
    simulation,
    repository,
    JSON.stringify({
      architecture: 'unknown',
      os: 'unknown',
      config: {},
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
    MediaType.OciConfig,
  );
  const parsed = buildImageManifest({
    config,
    layers: [{ ...layer, annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' } }],
  });
  return pushManifest(simulation, repository, parsed);
}

/**
 * Pushes one multi-arch release of `repository` tagged `tag`: an OCI index over linux/amd64 and
 * linux/arm64/v8 images and a BuildKit attestation manifest for each (five package versions).
 * @internal
 */
export async function release(
  simulation: Simulation,
  repository: string,
  tag: string,
  advance: boolean,
): Promise<DemoRelease> {
  const platforms: PushedImage[] = [];
  const attestations: PushedManifest[] = [];
  const entries: Descriptor[] = [];
  for (const platform of PLATFORMS) {
    const image = await pushImage(simulation, repository, { platform, seed: `${repository}:${tag}` });
    platforms.push(image);
    entries.push({ ...image.descriptor, platform });
  }
  for (const image of platforms) {
    const attestation = await buildkitAttestation(simulation, repository, image);
    attestations.push(attestation);
    entries.push({
      ...attestation.descriptor,
      platform: { architecture: 'unknown', os: 'unknown' },
      annotations: {
        'vnd.docker.reference.digest': image.digest,
        'vnd.docker.reference.type': 'attestation-manifest',
      },
    });
  }
  const index = pushIndex(simulation, repository, entries, {
    tag,
    annotations: {
      'org.opencontainers.image.description': `demo app ${tag}`,
      'org.opencontainers.image.version': tag,
    },
  });
  await tick(simulation, advance);
  return { tag, index, platforms, attestations };
}

async function cosignManifest(
  simulation: Simulation,
  repository: string,
  layerMediaType: string,
  payload: string,
  annotations: Record<string, string>,
  tag: string,
): Promise<PushedManifest> {
  const layer = await pushBlob(simulation, repository, payload, layerMediaType);
  const config = await pushBlob(
    simulation,
    repository,
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
    MediaType.OciConfig,
  );
  const parsed = buildImageManifest({ config, layers: [{ ...layer, annotations }] });
  return pushManifest(simulation, repository, parsed, tag);
}

/**
 * Seeds a realistic owner: an organisation administered by a user, with
 * - `<owner>/app`: multi-arch releases (OCI index → linux/amd64 + linux/arm64/v8 + BuildKit
 *   `unknown/unknown` attestation manifests, all untagged children), a Sigstore bundle (artifact
 *   with `subject`) listed in an index at the latest release's `sha256-<hex>` fallback tag, cosign
 *   `.sig`/`.att` tags, and an orphaned untagged image;
 * - `<owner>/many`: many single-arch versions (`v1` … `vN`);
 * - `<admin>/hello`: a public user-owned image.
 * Everything is built with real bytes (gzip tar layers, configs with diff ids) through
 * `@ghcr/manifest`, stored directly (no HTTP). Packages are private except `hello`.
 * @public
 */
export async function seedDemo(simulation: Simulation, options: SeedDemoOptions = {}): Promise<DemoSeed> {
  const owner = options.owner ?? 'octo-org';
  const admin = options.admin ?? 'octocat';
  const advance = options.advanceClock ?? true;
  const releaseCount = options.releases ?? 2;
  const manyCount = options.manyVersions ?? 25;
  simulation.createUser(admin);
  simulation.createOrganization(owner, { admins: [admin] });
  const tokens = {
    read: simulation.createToken({ user: admin, scopes: ['read:packages'] }),
    write: simulation.createToken({ user: admin, scopes: ['write:packages'] }),
    delete: simulation.createToken({ user: admin, scopes: ['read:packages', 'delete:packages'] }),
    all: simulation.createToken({
      user: admin,
      scopes: ['read:packages', 'write:packages', 'delete:packages'],
    }),
  };

  const app = `${owner}/app`;
  const releases: DemoRelease[] = [];
  for (let i = 0; i < Math.max(1, releaseCount); i++)
    releases.push(await release(simulation, app, `1.${i}.0`, advance));
  const latest = releases[releases.length - 1] as DemoRelease;
  pushManifest(simulation, app, latest.index.parsed, 'latest');

  const bundleJson = JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: Buffer.from(`certificate for ${latest.index.digest}`).toString('base64') },
    },
    dsseEnvelope: {
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from(
        JSON.stringify({ subject: [{ digest: { sha256: latest.index.digest.slice(7) } }] }),
      ).toString('base64'),
      signatures: [{ sig: Buffer.from('simulated signature').toString('base64') }],
    },
  });
  const bundleBlob = await pushBlob(
    simulation,
    app,
    bundleJson,
    'application/vnd.dev.sigstore.bundle.v0.3+json',
  );
  const emptyConfig = await pushBlob(simulation, app, '{}', MediaType.OciEmpty);
  const bundleAnnotations = {
    'dev.sigstore.bundle.content': 'dsse-envelope',
    'dev.sigstore.bundle.predicateType': 'https://slsa.dev/provenance/v1',
    'org.opencontainers.image.created': new Date(simulation.clock.now()).toISOString(),
  };
  const bundle = pushManifest(
    simulation,
    app,
    buildArtifactManifest({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      blobs: [bundleBlob],
      config: emptyConfig,
      subject: latest.index.descriptor,
      annotations: bundleAnnotations,
    }),
  );
  const referrersIndex = pushIndex(
    simulation,
    app,
    [
      {
        ...bundle.descriptor,
        artifactType: options.fallbackIndexArtifactType ?? 'application/vnd.dev.sigstore.bundle.v0.3+json',
        annotations: bundleAnnotations,
      },
    ],
    { tag: referrersTagFor(latest.index.digest) },
  );
  const cosignTags = cosignTagsFor(latest.index.digest);
  const simpleSigning = JSON.stringify({
    critical: {
      identity: { 'docker-reference': `ghcr.io/${app}` },
      image: { 'docker-manifest-digest': latest.index.digest },
      type: 'cosign container image signature',
    },
    optional: null,
  });
  const cosignSignature = await cosignManifest(
    simulation,
    app,
    'application/vnd.dev.cosign.simplesigning.v1+json',
    simpleSigning,
    { 'dev.cosignproject.cosign/signature': Buffer.from(digestOf(simpleSigning)).toString('base64') },
    cosignTags.signature,
  );
  const cosignAttestation = await cosignManifest(
    simulation,
    app,
    'application/vnd.dsse.envelope.v1+json',
    JSON.stringify({
      payloadType: 'application/vnd.in-toto+json',
      payload: Buffer.from('{}').toString('base64'),
      signatures: [],
    }),
    { predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1' },
    cosignTags.attestation,
  );
  const orphan = await pushImage(simulation, app, { seed: `${app}:dev-1`, tag: 'dev' });
  await tick(simulation, advance);
  const dev = await pushImage(simulation, app, { seed: `${app}:dev-2`, tag: 'dev' });

  const many = `${owner}/many`;
  const versions: PushedImage[] = [];
  for (let i = 1; i <= manyCount; i++) {
    versions.push(await pushImage(simulation, many, { seed: `${many}:v${i}`, tag: `v${i}` }));
    await tick(simulation, advance);
  }

  const hello = `${admin}/hello`;
  const helloImage = await pushImage(simulation, hello, { seed: hello, tag: 'latest', format: 'docker' });
  simulation.setVisibility(admin, 'hello', 'public');

  return {
    owner,
    admin,
    tokens,
    app: {
      repository: app,
      releases,
      referrersIndex,
      bundle,
      cosignSignature,
      cosignAttestation,
      orphan,
      dev,
    },
    many: { repository: many, versions },
    hello: { repository: hello, image: helloImage },
  };
}
