/**
 * Test helper (not exported from the package): a model of one GHCR package — manifests with real
 * bytes and digests, tags, blobs and package versions — that serves `buildRegistryGraph`, applies
 * a plan's deletions, and checks, independently of the planner's own graph code, that every kept
 * tag still resolves completely.
 */
import { cosignTagsFor, descriptorOf, type ParsedManifest, referrersTagFor } from '@ghcr/manifest';
import {
  type Descriptor,
  type Digest,
  definedProps,
  digestOf,
  EMPTY_JSON_DIGEST,
  InternalError,
  MediaType,
  NotFoundError,
  type OciImageIndex,
  type OciImageManifest,
  type Platform,
} from '@ghcr/oci-types';
import { buildRegistryGraph } from '../github/retention/build-graph.js';
import type { RegistryGraph } from '../github/retention/graph.js';
import type { RetentionPlan } from '../github/retention/plan.js';
import type { RetentionVersion } from '../github/retention/versions.js';
import { buildUntagPlaceholder } from '../registry/placeholder.js';

/** One day in ms. @internal */
export const DAY = 86_400_000;
/** The `now` of model repositories. @internal */
export const MODEL_NOW = Date.parse('2026-06-01T00:00:00Z');

/** A manifest of the model. @internal */
export interface ModelManifest {
  readonly parsed: ParsedManifest;
  readonly children: readonly Digest[];
  readonly subject?: Digest;
  readonly blobs: readonly Digest[];
  /** BuildKit attestation entries: attestation digest → the image it attests. */
  readonly attests: ReadonlyMap<Digest, Digest>;
}

/** Options shared by everything that becomes a version. @internal */
export interface VersionOptions {
  /** Tags to put on it. */
  readonly tags?: readonly string[];
  /** Days before MODEL_NOW it was created. If omitted, 1. */
  readonly ageDays?: number;
  /** Days before MODEL_NOW it was last updated. If omitted, `ageDays`. */
  readonly updatedDaysAgo?: number;
}

/** @internal */
export class ModelRepository {
  readonly manifests = new Map<Digest, ModelManifest>();
  readonly tags = new Map<string, Digest>();
  readonly blobs = new Set<Digest>();
  readonly versions = new Map<Digest, { id: number; createdAt: number; updatedAt: number }>();
  /** Manifests whose GET fails with a 500-like error. */
  readonly unreadable = new Set<Digest>();
  /** Manifest GETs served. */
  fetches = 0;
  #nextId = 1000;
  #seed = 0;

  #blob(content: string, mediaType: string): Descriptor {
    const bytes = Buffer.from(content);
    const digest = digestOf(bytes);
    this.blobs.add(digest);
    return { mediaType, digest, size: bytes.byteLength };
  }

  #store(parsed: ParsedManifest, extra: Omit<ModelManifest, 'parsed'>, options: VersionOptions): Digest {
    this.manifests.set(parsed.digest, { parsed, ...extra });
    if (!this.versions.has(parsed.digest)) {
      const createdAt = MODEL_NOW - (options.ageDays ?? 1) * DAY;
      const updatedAt = MODEL_NOW - (options.updatedDaysAgo ?? options.ageDays ?? 1) * DAY;
      this.versions.set(parsed.digest, { id: this.#nextId++, createdAt, updatedAt });
    }
    for (const tag of options.tags ?? []) this.tags.set(tag, parsed.digest);
    return parsed.digest;
  }

  /** A runnable image (config + one layer). */
  image(options: VersionOptions & { readonly platform?: Platform; readonly seed?: string } = {}): Digest {
    const seed = options.seed ?? `image-${this.#seed++}`;
    const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
    const config = this.#blob(
      JSON.stringify({ architecture: platform.architecture, os: platform.os, seed }),
      MediaType.OciConfig,
    );
    const layer = this.#blob(`layer of ${seed}`, MediaType.OciLayerGzip);
    const parsed = buildImageManifest({ config, layers: [layer] });
    return this.#store(
      parsed,
      { children: [], blobs: [config.digest, layer.digest], attests: new Map() },
      options,
    );
  }

  /** A BuildKit attestation manifest for `image` (an `unknown/unknown` entry of an index). */
  attestation(image: Digest, options: VersionOptions = {}): Digest {
    const config = this.#blob(
      JSON.stringify({ architecture: 'unknown', os: 'unknown', attests: image }),
      MediaType.OciConfig,
    );
    const layer = this.#blob(`provenance of ${image}`, 'application/vnd.in-toto+json');
    const parsed = buildImageManifest({ config, layers: [layer] });
    return this.#store(
      parsed,
      { children: [], blobs: [config.digest, layer.digest], attests: new Map() },
      options,
    );
  }

  /** An index over `children`; `attests` maps attestation children to the images they attest. */
  index(
    children: readonly Digest[],
    options: VersionOptions & {
      readonly attests?: ReadonlyMap<Digest, Digest>;
      readonly subject?: Digest;
      readonly seed?: string;
    } = {},
  ): Digest {
    const attests = options.attests ?? new Map<Digest, Digest>();
    const entries = children.map((digest): Descriptor => {
      const child = this.manifests.get(digest);
      const base: Descriptor = child === undefined ? fakeDescriptor(digest) : descriptorOf(child.parsed);
      const attested = attests.get(digest);
      if (attested !== undefined) {
        return {
          ...base,
          platform: { architecture: 'unknown', os: 'unknown' },
          annotations: {
            'vnd.docker.reference.digest': attested,
            'vnd.docker.reference.type': 'attestation-manifest',
          },
        };
      }
      return { ...base, platform: { architecture: 'amd64', os: 'linux' } };
    });
    const subject = options.subject === undefined ? undefined : this.#descriptor(options.subject);
    const parsed = buildIndex({
      manifests: entries,
      annotations: { seed: options.seed ?? `index-${this.#seed++}` },
      ...definedProps({ subject }),
    });
    return this.#store(
      parsed,
      {
        children: [...children],
        ...definedProps({ subject: options.subject }),
        blobs: [],
        attests,
      },
      options,
    );
  }

  /** A multi-arch image: `platforms` images, each with a BuildKit attestation when asked, under one index. */
  multiArch(
    options: VersionOptions & { readonly platforms?: number; readonly attestations?: boolean } = {},
  ): { index: Digest; images: Digest[]; attestations: Digest[] } {
    const age = options.ageDays ?? 1;
    const images: Digest[] = [];
    const attestations: Digest[] = [];
    const attests = new Map<Digest, Digest>();
    const arches = ['amd64', 'arm64', 'arm', 's390x', 'ppc64le'];
    for (let i = 0; i < (options.platforms ?? 2); i++) {
      images.push(
        this.image({
          ageDays: age,
          platform: { os: 'linux', architecture: arches[i % arches.length] as string },
        }),
      );
    }
    if (options.attestations ?? true) {
      for (const image of images) {
        const attestation = this.attestation(image, { ageDays: age });
        attestations.push(attestation);
        attests.set(attestation, image);
      }
    }
    const index = this.index([...images, ...attestations], { ...options, ageDays: age, attests });
    return { index, images, attestations };
  }

  /** An OCI 1.1 artifact (a signature bundle, an SBOM) whose `subject` is `subject`. */
  artifact(subject: Digest, options: VersionOptions & { readonly artifactType?: string } = {}): Digest {
    const blob = this.#blob(
      `artifact ${this.#seed++} for ${subject}`,
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    const parsed = buildArtifactManifest({
      artifactType: options.artifactType ?? 'application/vnd.dev.sigstore.bundle.v0.3+json',
      blobs: [blob],
      subject: this.#descriptor(subject),
    });
    this.blobs.add(EMPTY_JSON_DIGEST);
    return this.#store(
      parsed,
      { children: [], subject, blobs: [EMPTY_JSON_DIGEST, blob.digest], attests: new Map() },
      options,
    );
  }

  /** The referrers fallback index of `subject` (tag `sha256-<hex>`), listing `referrers`. */
  referrersIndex(subject: Digest, referrers: readonly Digest[], options: VersionOptions = {}): Digest {
    const parsed = buildIndex({
      manifests: referrers.map((digest) => {
        const child = this.manifests.get(digest);
        return child === undefined ? fakeDescriptor(digest) : descriptorOf(child.parsed);
      }),
    });
    return this.#store(
      parsed,
      { children: [...referrers], blobs: [], attests: new Map() },
      { ...options, tags: [...(options.tags ?? []), referrersTagFor(subject)] },
    );
  }

  /** A cosign legacy signature, attestation or SBOM of `subject` at `sha256-<hex>.sig|.att|.sbom`. */
  cosign(subject: Digest, kind: 'sig' | 'att' | 'sbom', options: VersionOptions = {}): Digest {
    const config = this.#blob(
      JSON.stringify({ architecture: '', os: '', cosign: subject, kind }),
      MediaType.OciConfig,
    );
    const layer = this.#blob(
      `cosign ${kind} of ${subject}`,
      'application/vnd.dev.cosign.simplesigning.v1+json',
    );
    const parsed = buildImageManifest({ config, layers: [layer] });
    const tags = cosignTagsFor(subject);
    const tag = kind === 'sig' ? tags.signature : kind === 'att' ? tags.attestation : tags.sbom;
    return this.#store(
      parsed,
      { children: [], blobs: [config.digest, layer.digest], attests: new Map() },
      { ...options, tags: [...(options.tags ?? []), tag] },
    );
  }

  /** An untag placeholder (untagged). */
  placeholder(options: VersionOptions = {}): Digest {
    const parsed = buildUntagPlaceholder(`placeholder-${this.#seed++}`, new Date(MODEL_NOW));
    this.blobs.add(EMPTY_JSON_DIGEST);
    return this.#store(parsed, { children: [], blobs: [EMPTY_JSON_DIGEST], attests: new Map() }, options);
  }

  /** Points `tag` at `digest` (moving it when it exists). */
  tag(tag: string, digest: Digest): void {
    this.tags.set(tag, digest);
  }

  /** Removes a manifest from the registry and the package (a ghost child, a deleted subject). */
  remove(digest: Digest): void {
    this.manifests.delete(digest);
    this.versions.delete(digest);
    for (const [tag, target] of this.tags) if (target === digest) this.tags.delete(tag);
  }

  /** The version id of a manifest. */
  id(digest: Digest): number {
    const version = this.versions.get(digest);
    if (version === undefined) throw new InternalError(`model: ${digest} is no version`);
    return version.id;
  }

  /** The package versions, as the Packages API would list them. */
  versionList(): RetentionVersion[] {
    return [...this.versions].map(([digest, version]) => ({
      id: version.id,
      digest,
      tags: [...this.tags].filter(([, target]) => target === digest).map(([tag]) => tag),
      createdAt: version.createdAt,
      updatedAt: version.updatedAt,
    }));
  }

  /** Reads the graph through `buildRegistryGraph`, serving the model's manifests and tags. */
  graph(): Promise<RegistryGraph> {
    return buildRegistryGraph({
      versions: this.versionList(),
      fetchManifest: async (digest) => {
        this.fetches += 1;
        if (this.unreadable.has(digest as Digest)) {
          throw new InternalError(`model: manifest ${digest} is unreadable`);
        }
        const manifest = this.manifests.get(digest as Digest);
        if (manifest === undefined) throw new NotFoundError(`model: manifest ${digest} unknown`);
        return manifest.parsed;
      },
      listTags: async () => [...this.tags.keys()],
      resolveTag: async (tag) => this.tags.get(tag),
    });
  }

  /**
   * Everything a manifest needs to pull completely with its referrers (children, blobs, and the
   * referrers of each, recursively), computed from the model itself.
   */
  closureOf(
    digest: Digest,
    referrers: ReadonlyMap<Digest, readonly Digest[]> = this.referrerMap(),
  ): { manifests: Set<Digest>; blobs: Set<Digest> } {
    const manifests = new Set<Digest>();
    const blobs = new Set<Digest>();
    const queue: Digest[] = [digest];
    while (queue.length > 0) {
      const next = queue.pop() as Digest;
      if (manifests.has(next)) continue;
      manifests.add(next);
      const manifest = this.manifests.get(next);
      if (manifest === undefined) continue;
      for (const blob of manifest.blobs) blobs.add(blob);
      queue.push(...manifest.children);
      queue.push(...(referrers.get(next) ?? []));
    }
    return { manifests, blobs };
  }

  /**
   * Subject → referrers: `subject` fields, the fallback-tag index and its entries, cosign tags,
   * BuildKit attestation entries.
   */
  referrerMap(): Map<Digest, Digest[]> {
    const map = new Map<Digest, Digest[]>();
    const add = (subject: Digest, referrer: Digest): void => {
      const list = map.get(subject);
      if (list === undefined) map.set(subject, [referrer]);
      else list.push(referrer);
    };
    for (const [digest, manifest] of this.manifests) {
      if (manifest.subject !== undefined) add(manifest.subject, digest);
      for (const [attestation, image] of manifest.attests) add(image, attestation);
    }
    for (const [tag, target] of this.tags) {
      const fallback = /^sha256-([a-f0-9]{64})$/.exec(tag);
      if (fallback !== null) {
        const subject = `sha256:${fallback[1]}` as Digest;
        add(subject, target);
        for (const entry of this.manifests.get(target)?.children ?? []) add(subject, entry);
      }
      const cosign = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/.exec(tag);
      if (cosign !== null) add(`sha256:${cosign[1]}` as Digest, target);
    }
    return map;
  }

  /** A copy with the plan's deletions applied (manifests, their versions and tags removed). */
  apply(plan: RetentionPlan): ModelRepository {
    const copy = new ModelRepository();
    for (const [digest, manifest] of this.manifests) copy.manifests.set(digest, manifest);
    for (const [tag, digest] of this.tags) copy.tags.set(tag, digest);
    for (const blob of this.blobs) copy.blobs.add(blob);
    for (const [digest, version] of this.versions) copy.versions.set(digest, version);
    for (const decision of plan.decisions) {
      if (decision.action === 'delete') copy.remove(decision.digest as Digest);
    }
    return copy;
  }

  #descriptor(digest: Digest): Descriptor {
    const manifest = this.manifests.get(digest);
    return manifest === undefined ? fakeDescriptor(digest) : descriptorOf(manifest.parsed);
  }
}

/** An OCI image manifest with its bytes (built directly: no validation pass, for speed). */
function buildImageManifest(input: {
  config: Descriptor;
  layers: readonly Descriptor[];
  artifactType?: string;
  subject?: Descriptor;
}): ParsedManifest {
  const manifest: OciImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    ...definedProps({ artifactType: input.artifactType }),
    config: input.config,
    layers: [...input.layers],
    ...definedProps({ subject: input.subject }),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return {
    kind: 'oci-manifest',
    bytes,
    digest: digestOf(bytes),
    size: bytes.byteLength,
    mediaType: MediaType.OciManifest,
    manifest,
  };
}

/** An OCI artifact manifest (empty config). */
function buildArtifactManifest(input: {
  artifactType: string;
  blobs: readonly Descriptor[];
  subject: Descriptor;
}): ParsedManifest {
  return buildImageManifest({
    config: { mediaType: MediaType.OciEmpty, digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: input.blobs,
    artifactType: input.artifactType,
    subject: input.subject,
  });
}

/** An OCI index with its bytes. */
function buildIndex(input: {
  manifests: readonly Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
}): ParsedManifest {
  const manifest: OciImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [...input.manifests],
    ...definedProps({ subject: input.subject, annotations: input.annotations }),
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  return {
    kind: 'oci-index',
    bytes,
    digest: digestOf(bytes),
    size: bytes.byteLength,
    mediaType: MediaType.OciIndex,
    manifest,
  };
}

function fakeDescriptor(digest: Digest): Descriptor {
  return { mediaType: MediaType.OciManifest, digest, size: 100 };
}
