import { basename } from 'node:path';
import { buildArtifactManifest } from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  InvalidInputError,
  isDigest,
  MediaType,
  NotFoundError,
  parseDigest,
} from '@ghcr/oci-types';
import { type BlobInput, fileSource } from '../registry/blob-source.js';
import type { Blobs } from '../registry/blobs.js';
import { mapLimit } from '../registry/concurrency.js';
import type { ManifestLimits, RegistryDependencies } from '../registry/dependencies.js';
import { type Manifests, putOne } from '../registry/manifests.js';
import { checkRepository, parseManifestReference } from '../registry/names.js';
import { fetchTagPage } from '../registry/tags.js';
import { registryUrl } from '../registry/urls.js';
import { listFromApi } from './api.js';
import { cosignReferrers } from './cosign.js';
import { addToFallbackIndex, describeReferrers, fallbackTagReferrers } from './fallback.js';

/**
 * Options of {@link Referrers.list}.
 * @public
 */
export interface ListReferrersOptions {
  /**
   * Only referrers of this `artifactType`. Sent to the referrers API; filtered here when the
   * registry did not apply it (no `OCI-Filters-Applied: artifactType`) and on the fallback paths.
   * If omitted, every referrer.
   */
  readonly artifactType?: string | undefined;
  /**
   * Also report cosign's legacy tags (`sha256-<hex>.sig`, `.att`, `.sbom`) as referrers. If
   * omitted, only when the registry has no referrers API (where cosign keeps them: ghcr.io).
   */
  readonly cosignTags?: boolean | undefined;
  /**
   * Fetch the manifests of fallback-index entries that lack an `artifactType` to report it (and
   * their annotations), as the referrers API would. If omitted, true; with false such entries are
   * reported as written, and an `artifactType` filter leaves them out.
   */
  readonly describeEntries?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * A file to attach: its bytes (a `Uint8Array` or a {@link BlobSource}) or a path on disk.
 * @public
 */
export type AttachFile = (
  | { readonly content: BlobInput; readonly path?: never }
  | { readonly path: string; readonly content?: never }
) & {
  /** The blob's media type. If omitted, `application/octet-stream`. */
  readonly mediaType?: string;
  /**
   * `org.opencontainers.image.title` of the blob (oras uses it as the file name). If omitted, the
   * path's base name, or none for `content`.
   */
  readonly title?: string;
  /** Further annotations on the blob's descriptor. If omitted, none. */
  readonly annotations?: Record<string, string>;
};

/**
 * Options of {@link Referrers.attach}.
 * @public
 */
export interface AttachOptions {
  /** The artifact's type, a media type (`application/spdx+json`, `application/vnd.example.signature.v1+json`). */
  readonly artifactType: string;
  /** Files to upload as the artifact's blobs (in parallel, under the client's `concurrency`). If omitted, none. */
  readonly files?: readonly AttachFile[] | undefined;
  /** Blobs already in the repository, listed after the files. If omitted, none. */
  readonly blobs?: readonly Descriptor[] | undefined;
  /** Annotations of the artifact manifest (the referrers list reports them). If omitted, none. */
  readonly annotations?: Record<string, string> | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Artifacts that refer to a manifest through their `subject` (OCI distribution-spec v1.1): listed
 * through the referrers API, or on registries without it (ghcr.io, docker-registry 2.8) through the
 * referrers tag schema and cosign's legacy tags.
 * @public
 */
export interface Referrers {
  /**
   * The referrers of `subjectDigest` in `repository`: `GET /v2/<name>/referrers/<digest>` (pages
   * followed). When that answers 404 the registry is remembered as having no referrers API and,
   * now and on later calls, the index at the `sha256-<hex>` tag is read instead (entries without an
   * `artifactType` are described from their manifests), together with cosign's `.sig`, `.att` and
   * `.sbom` tags (reported with the cosign kind's `artifactType` and the `COSIGN_TAG_ANNOTATION`).
   * Duplicates (by digest) are dropped.
   */
  list(repository: string, subjectDigest: string, options?: ListReferrersOptions): Promise<Descriptor[]>;
  /**
   * Pushes an artifact that refers to `subject` (a tag or digest in `repository`, or its
   * descriptor): the files' blobs, the empty config, then an OCI image manifest with
   * `artifactType`, the blobs as layers and `subject`, by digest. When the registry answers the PUT
   * with `OCI-Subject` it maintains the referrers itself; otherwise the artifact is added to the
   * index at the subject's `sha256-<hex>` tag (created when missing, existing entries kept, no
   * duplicates). Returns the artifact's descriptor (with `artifactType` and annotations).
   * @throws NotFoundError when the subject does not exist; ResourceConflictError when the fallback
   * tag holds something other than a referrers index.
   */
  attach(repository: string, subject: string | Descriptor, options: AttachOptions): Promise<Descriptor>;
  /**
   * Records an artifact manifest that is already in `repository` as a referrer of `subject` (a
   * digest), where clients of this registry look for referrers: a registry with the referrers API
   * indexes manifests with a `subject` itself, so nothing is written (`method: 'api'`); otherwise
   * `referrer` (its descriptor, with `artifactType` and annotations as they should be listed) is
   * added to the index at the subject's `sha256-<hex>` fallback tag, as `attach` does: created when
   * missing, existing entries kept, no duplicates (`method: 'fallback-tag'`). For copies of
   * referrers to a registry without the API. Safe to repeat.
   * @throws NotFoundError when `referrer` is not in the repository; ResourceConflictError when the
   * fallback tag holds something other than a referrers index.
   */
  register(
    repository: string,
    subjectDigest: string,
    referrer: Descriptor,
    options?: RegisterReferrerOptions,
  ): Promise<RegisterReferrerResult>;
}

/**
 * Options of {@link Referrers.register}.
 * @public
 */
export interface RegisterReferrerOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * What {@link Referrers.register} did.
 * @public
 */
export interface RegisterReferrerResult {
  /** `api`: the registry lists referrers itself, nothing was written; `fallback-tag`: the fallback index holds it. */
  readonly method: 'api' | 'fallback-tag';
  /** The fallback tag (`sha256-<hex>`), for `fallback-tag`. */
  readonly tag?: string;
  /** True when the fallback index was written (false: it listed the referrer already, or `api`). */
  readonly written: boolean;
}

/**
 * Options of {@link createReferrers}.
 * @public
 */
export interface ReferrersOptions {
  /**
   * What is known of the registry's referrers API. `auto`: ask it, and after a 404 remember that it
   * is absent and use the fallback from then on. `fallback`: never ask it (the tag schema only).
   * If omitted, `auto`.
   */
  readonly api?: 'auto' | 'fallback' | undefined;
}

const TITLE_ANNOTATION = 'org.opencontainers.image.title';
/** How long one tag listing answers the tag probes of later `list` calls (client clock). */
const TAG_SET_TTL_MS = 2000;
/** Tags asked for in that one listing (`n`); a repository with more is probed tag by tag. */
const TAG_SET_PAGE = 1000;

/**
 * Creates the referrers capability from its endpoint, event sink and limits, and the client's blobs and manifests.
 *
 * ```ts
 * const referrers = createReferrers(deps, { blobs, manifests });
 * await referrers.attach('octo/app', 'v1', { artifactType: 'application/spdx+json', files: [{ path: 'sbom.json' }] });
 * const sboms = await referrers.list('octo/app', digest, { artifactType: 'application/spdx+json' });
 * ```
 * @internal
 */
export function createReferrers(
  deps: RegistryDependencies<ManifestLimits>,
  capabilities: { readonly blobs: Blobs; readonly manifests: Manifests },
  options: ReferrersOptions = {},
): Referrers {
  const { blobs, manifests } = capabilities;
  const host = deps.endpoint.host;
  // Registries (by host) whose referrers API answered 404: later calls go straight to the fallback.
  const apiAbsent = new Set<string>();
  // Registries (by host) whose referrers API answered: `register` need not ask again.
  const apiPresent = new Set<string>();
  // ghcr.io has no referrers API (it answers 404 for every subject): never ask it.
  if (options.api === 'fallback' || deps.endpoint.flavor === 'ghcr') apiAbsent.add(host);
  // While the first call finds out whether the API exists, the calls beside it wait for the answer
  // instead of each asking (a copy lists the referrers of every manifest of an index at once).
  let probing: Promise<unknown> | undefined;
  const clock = deps.limits.clock;
  // One tag listing answers every tag probe (the fallback tag, cosign's .sig/.att/.sbom) of every
  // subject listed at about the same time; kept briefly, and forgotten when this client writes a tag.
  const tagSets = new Map<string, { at: number; tags: Promise<ReadonlySet<string> | undefined> }>();
  const presentTags = (repository: string, signal: AbortSignal | undefined) => {
    const cached = tagSets.get(repository);
    if (cached !== undefined && clock.now() - cached.at <= TAG_SET_TTL_MS) return cached.tags;
    const tags = (async (): Promise<ReadonlySet<string> | undefined> => {
      // Only a listing that fits in one page beats four HEADs a subject; a longer one is not read.
      const page = await fetchTagPage(
        deps,
        repository,
        registryUrl(deps, repository, `tags/list?n=${TAG_SET_PAGE}`),
        signal,
      );
      return page.next === undefined ? new Set(page.tags) : undefined;
    })();
    tagSets.set(repository, { at: clock.now(), tags });
    tags.catch(() => {
      if (tagSets.get(repository)?.tags === tags) tagSets.delete(repository);
    });
    return tags;
  };
  const signalOption = (signal: AbortSignal | undefined): { signal?: AbortSignal | undefined } =>
    signal === undefined ? {} : { signal };

  const list: Referrers['list'] = async (repository, subjectDigest, listOptions = {}) => {
    checkRepository(repository);
    const subject = parseDigest(subjectDigest).digest;
    const { artifactType, signal } = listOptions;
    const matches = (descriptor: Descriptor): boolean =>
      artifactType === undefined || descriptor.artifactType === artifactType;
    const found: Descriptor[] = [];
    let answered = false;
    if (!apiAbsent.has(host) && !apiPresent.has(host) && probing !== undefined) {
      await probing.catch(() => {});
    }
    if (!apiAbsent.has(host)) {
      const asking = listFromApi(deps, repository, subject, artifactType, signal);
      if (!apiPresent.has(host))
        probing ??= asking.finally(() => {
          probing = undefined;
        });
      const answer = await asking;
      if (answer.kind === 'listed') {
        answered = true;
        apiPresent.add(host);
        // `OCI-Filters-Applied: artifactType` on every page: the registry filtered; else filter here.
        found.push(...(answer.filtered ? answer.descriptors : answer.descriptors.filter(matches)));
      } else if (answer.conclusive) {
        apiAbsent.add(host);
      }
    }
    const known = answered ? undefined : await presentTags(repository, signal).catch(() => undefined);
    if (!answered) {
      const entries = await fallbackTagReferrers(manifests, repository, subject, signal, known);
      const described =
        listOptions.describeEntries === false
          ? entries
          : await describeReferrers(deps, manifests, repository, entries, signal);
      found.push(...described.filter(matches));
    }
    if (listOptions.cosignTags ?? !answered) {
      const tags = known ?? (await presentTags(repository, signal).catch(() => undefined));
      found.push(...(await cosignReferrers(manifests, repository, subject, signal, tags)).filter(matches));
    }
    const seen = new Set<string>();
    return found.filter((descriptor) => {
      if (seen.has(descriptor.digest)) return false;
      seen.add(descriptor.digest);
      return true;
    });
  };

  const attach: Referrers['attach'] = async (repository, subjectRef, attachOptions) => {
    checkRepository(repository);
    const { signal } = attachOptions;
    const subject = await resolveSubject(repository, subjectRef, signal);
    const where = `attach ${attachOptions.artifactType} to ${host}/${repository}@${subject.digest}`;
    const uploaded = await mapLimit(
      attachOptions.files ?? [],
      deps.limits.concurrency,
      async (file): Promise<Descriptor> => {
        const content = file.path === undefined ? file.content : await fileSource(file.path);
        if (content === undefined) {
          throw new InvalidInputError(`${where}: each file needs a path or content`);
        }
        const result = await blobs.upload(repository, content, {
          ...definedProps({ mediaType: file.mediaType }),
          ...signalOption(signal),
        });
        const title = file.title ?? (file.path === undefined ? undefined : basename(file.path));
        const annotations = {
          ...(title === undefined ? {} : { [TITLE_ANNOTATION]: title }),
          ...(file.annotations ?? {}),
        };
        return {
          ...result.descriptor,
          ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
        };
      },
    );
    // The config (and, for an artifact without blobs, the single layer) is the empty descriptor.
    await blobs.upload(repository, EMPTY_JSON_BYTES, {
      digest: EMPTY_JSON_DIGEST,
      mediaType: MediaType.OciEmpty,
      ...signalOption(signal),
    });
    const manifest = buildArtifactManifest({
      artifactType: attachOptions.artifactType,
      blobs: [...uploaded, ...(attachOptions.blobs ?? [])],
      subject,
      ...definedProps({ annotations: attachOptions.annotations }),
    });
    const headers = await putOne(deps, repository, manifest, manifest.digest, signal);
    deps.events.emit('pushed', {
      kind: 'manifest',
      registry: host,
      repository,
      digest: manifest.digest,
      size: manifest.size,
      mediaType: manifest.mediaType,
      tags: [],
    });
    const descriptor: Descriptor = {
      mediaType: manifest.mediaType,
      digest: manifest.digest,
      size: manifest.size,
      artifactType: attachOptions.artifactType,
      ...definedProps({ annotations: attachOptions.annotations }),
    };
    // A registry with the referrers API says so with `OCI-Subject`; it then lists the artifact itself.
    const ociSubjectHeader = headers['oci-subject'];
    const ociSubject = Array.isArray(ociSubjectHeader) ? ociSubjectHeader[0] : ociSubjectHeader;
    if (ociSubject !== undefined && ociSubject !== '') return descriptor;
    tagSets.delete(repository);
    await addToFallbackIndex(manifests, repository, subject.digest, descriptor, where, signal);
    return descriptor;
  };

  const register: Referrers['register'] = async (
    repository,
    subjectDigest,
    referrer,
    registerOptions = {},
  ) => {
    checkRepository(repository);
    const subject = parseDigest(subjectDigest).digest;
    const { signal } = registerOptions;
    const where = `register ${referrer.digest} as a referrer of ${host}/${repository}@${subject}`;
    if (!isDigest(referrer.digest)) {
      throw new InvalidInputError(`${where}: the referrer's digest is not a digest`, {
        input: referrer.digest,
      });
    }
    const present = await manifests.head(repository, referrer.digest, signalOption(signal));
    if (present === undefined) {
      throw new NotFoundError(
        `${where}: the repository has no manifest ${referrer.digest}; push it first (register records an existing manifest)`,
        { code: 'MANIFEST_UNKNOWN', resource: `manifest ${host}/${repository}@${referrer.digest}` },
      );
    }
    if (!apiAbsent.has(host) && !apiPresent.has(host)) {
      const answer = await listFromApi(deps, repository, subject, undefined, signal);
      if (answer.kind === 'listed') apiPresent.add(host);
      else if (answer.conclusive) apiAbsent.add(host);
    }
    if (apiPresent.has(host) && !apiAbsent.has(host)) return { method: 'api', written: false };
    tagSets.delete(repository);
    const { tag, written } = await addToFallbackIndex(
      manifests,
      repository,
      subject,
      referrer,
      where,
      signal,
    );
    return { method: 'fallback-tag', tag, written };
  };

  return { list, attach, register };

  /** The subject's descriptor (media type, digest, size), read from the registry. */
  async function resolveSubject(
    repository: string,
    subject: string | Descriptor,
    signal: AbortSignal | undefined,
  ): Promise<Descriptor> {
    if (typeof subject !== 'string') {
      if (!isDigest(subject.digest)) {
        throw new InvalidInputError(`the subject's digest "${subject.digest}" is not a digest`, {
          input: subject.digest,
        });
      }
      return { mediaType: subject.mediaType, digest: subject.digest, size: subject.size };
    }
    parseManifestReference(subject);
    const found = await manifests.head(repository, subject, signalOption(signal));
    if (found === undefined) {
      throw new NotFoundError(
        `cannot attach to ${host}/${repository}${subject.includes(':') ? '@' : ':'}${subject}: no such manifest; push the subject first, or check the reference`,
        { code: 'MANIFEST_UNKNOWN', resource: `manifest ${host}/${repository}:${subject}` },
      );
    }
    return { mediaType: found.mediaType, digest: found.digest, size: found.size };
  }
}
