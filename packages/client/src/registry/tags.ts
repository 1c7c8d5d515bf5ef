import { randomUUID } from 'node:crypto';
import { descriptorOf, parseManifest } from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  EMPTY_JSON_BYTES,
  EMPTY_JSON_DIGEST,
  GhcrError,
  InvalidInputError,
  MediaType,
  NotFoundError,
  ProtocolError,
} from '@ghcr/oci-types';
import type { Blobs } from './blobs.js';
import { mapLimit } from './concurrency.js';
import type { BackoffLimits, RegistryDependencies, TagLimits } from './dependencies.js';
import { nextLink } from './link-header.js';
import {
  deleteByDigest,
  explainDeleteFailure,
  type ManifestContent,
  type Manifests,
  putOne,
} from './manifests.js';
import { checkRepository, checkTag } from './names.js';
import { buildUntagPlaceholder } from './placeholder.js';
import { readCapped, readDocument } from './read-body.js';
import { discard } from './responses.js';
import { registryUrl } from './urls.js';

/**
 * Options of {@link Tags.list} and {@link Tags.pages}.
 * @public
 */
export interface ListTagsOptions {
  /** `n`: tags per page asked of the registry (some ignore it). If omitted, the registry's default (100 on ghcr.io). */
  readonly pageSize?: number | undefined;
  /** `last`: start after this tag. If omitted, from the first. */
  readonly last?: string | undefined;
  /** Stop after this many tags. If omitted, all. */
  readonly limit?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link Tags.tag} and {@link Tags.untag}.
 * @public
 */
export interface TagOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * How a tag was removed.
 * - `deleted`: the registry deleted the tag itself (`DELETE /manifests/<tag>`, OCI distribution v1.1).
 * - `placeholder-deleted`: the registry deletes by digest only (distribution): a unique placeholder
 *   was put on the tag and deleted by its digest, which removed the tag; the image is untouched.
 * - `placeholder`: the registry has no DELETE (ghcr.io): the tag now points at a unique placeholder
 *   manifest; delete that version through the Packages API to finish (`placeholderDigest`).
 * @public
 */
export type UntagResult =
  | { readonly method: 'deleted'; readonly tag: string; readonly previousDigest: string }
  | {
      readonly method: 'placeholder-deleted' | 'placeholder';
      readonly tag: string;
      readonly previousDigest: string;
      readonly placeholderDigest: string;
    };

/**
 * Tag operations of one registry.
 * @public
 */
export interface Tags {
  /** Every tag (following `Link: <…>; rel="next"` page after page), in the registry's order. */
  list(repository: string, options?: ListTagsOptions): Promise<string[]>;
  /** The same, page by page. */
  pages(repository: string, options?: ListTagsOptions): AsyncIterable<string[]>;
  /**
   * Points `tags` at a manifest by putting its exact bytes under each (in parallel, under the
   * client's `concurrency`). The source is a tag or digest in this repository, or manifest bytes.
   * Returns the manifest's descriptor.
   */
  tag(
    repository: string,
    source: string | ManifestContent,
    tags: readonly string[],
    options?: TagOptions,
  ): Promise<Descriptor>;
  /** Removes one tag without touching the image it pointed at (see {@link UntagResult}). */
  untag(repository: string, tag: string, options?: TagOptions): Promise<UntagResult>;
}

const MAX_PAGES = 100_000;

/**
 * One page of a repository's tag list: its tags, and the URL of the next page when the registry
 * says there is one (`Link: <…>; rel="next"`).
 * @internal
 */
export async function fetchTagPage(
  deps: RegistryDependencies<BackoffLimits>,
  repository: string,
  url: string,
  signal: AbortSignal | undefined,
): Promise<{ tags: string[]; next: string | undefined }> {
  const host = deps.endpoint.host;
  const what = `tag list page of ${host}/${repository}`;
  // A page cut off mid-body (or not JSON because of it) is read again.
  return readDocument(
    deps,
    {
      operation: 'tags.list',
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      auth: { kind: 'registry', repository, actions: ['pull'] },
      ...definedProps({ signal }),
    },
    { operation: 'tags.list', repository, what },
    async (response) => {
      const bytes = await readCapped(response, MAX_TAG_PAGE_BYTES, what, 'ask for smaller pages (pageSize)');
      return {
        tags: parseTagPage(bytes, `${host}/${repository}`),
        next: nextLink(response.headers.link, url),
      };
    },
  );
}
const MAX_TAG_PAGE_BYTES = 32 * 1024 * 1024;

/**
 * Creates the tag capability.
 * @internal
 */
export function createTags(deps: RegistryDependencies<TagLimits>, manifests: Manifests, blobs: Blobs): Tags {
  const host = deps.endpoint.host;
  const signalOption = (signal: AbortSignal | undefined): { signal?: AbortSignal | undefined } =>
    signal === undefined ? {} : { signal };

  async function* pages(repository: string, options: ListTagsOptions = {}): AsyncGenerator<string[]> {
    checkRepository(repository);
    const query = new URLSearchParams();
    if (options.pageSize !== undefined) query.set('n', String(options.pageSize));
    if (options.last !== undefined) query.set('last', options.last);
    const first = registryUrl(deps, repository, `tags/list${query.size > 0 ? `?${query}` : ''}`);
    const seen = new Set<string>();
    let remaining = options.limit ?? Number.POSITIVE_INFINITY;
    for (let url: string | undefined = first; url !== undefined && remaining > 0; ) {
      if (seen.has(url) || seen.size >= MAX_PAGES) {
        throw new ProtocolError(
          `GET tags of ${host}/${repository}: the registry's Link header leads back to a page already read (${seen.size} pages); its pagination is broken`,
        );
      }
      seen.add(url);
      const fetched = await fetchTagPage(deps, repository, url, options.signal);
      const page = fetched.tags.slice(0, Math.min(fetched.tags.length, remaining));
      remaining -= page.length;
      if (page.length > 0) yield page;
      url = fetched.next;
    }
  }

  return {
    pages,
    async list(repository, options = {}) {
      const all: string[] = [];
      for await (const page of pages(repository, options)) all.push(...page);
      return all;
    },
    async tag(repository, source, tags, options = {}) {
      checkRepository(repository);
      if (tags.length === 0) {
        throw new InvalidInputError('tags.tag needs at least one tag to put the manifest under');
      }
      const unique = [...new Set(tags)].map(checkTag);
      const content =
        typeof source === 'string'
          ? await manifests.get(repository, source, signalOption(options.signal))
          : source;
      const parsed = parseManifest(content.bytes, {
        contentType: content.mediaType,
        maxBytes: deps.limits.maxManifestBytes,
      });
      await mapLimit(unique, deps.limits.concurrency, (tag) =>
        putOne(deps, repository, parsed, tag, options.signal),
      );
      deps.events.emit('tagged', {
        registry: host,
        repository,
        digest: parsed.digest,
        size: parsed.size,
        mediaType: parsed.mediaType,
        tags: unique,
      });
      return descriptorOf(parsed);
    },
    async untag(repository, tag, options = {}) {
      checkRepository(repository);
      checkTag(tag);
      const current = await manifests.head(repository, tag, signalOption(options.signal));
      if (current === undefined) {
        throw new NotFoundError(`cannot untag ${host}/${repository}:${tag}: the tag does not exist`, {
          code: 'MANIFEST_UNKNOWN',
          resource: `tag ${host}/${repository}:${tag}`,
        });
      }
      const finish = (result: UntagResult): UntagResult => {
        deps.events.emit('deleted', {
          kind: 'tag',
          registry: host,
          repository,
          digest: current.digest,
          tags: [tag],
          ...(result.method === 'deleted' ? {} : { placeholderDigest: result.placeholderDigest }),
        });
        return result;
      };
      if (deps.endpoint.flavor !== 'ghcr' && (await deleteTag(repository, tag, options.signal))) {
        return finish({ method: 'deleted', tag, previousDigest: current.digest });
      }
      const placeholder = await putPlaceholder(repository, tag, options.signal);
      if (deps.endpoint.flavor === 'ghcr') {
        return finish({
          method: 'placeholder',
          tag,
          previousDigest: current.digest,
          placeholderDigest: placeholder,
        });
      }
      try {
        await deleteByDigest(deps, repository, placeholder, options.signal);
      } catch (error) {
        if (GhcrError.isInstance(error) && error.code === 'UNSUPPORTED') {
          return finish({
            method: 'placeholder',
            tag,
            previousDigest: current.digest,
            placeholderDigest: placeholder,
          });
        }
        throw error;
      }
      return finish({
        method: 'placeholder-deleted',
        tag,
        previousDigest: current.digest,
        placeholderDigest: placeholder,
      });
    },
  };

  /** DELETE /manifests/<tag>: true when the registry deleted the tag, false when it deletes by digest only. */
  async function deleteTag(
    repository: string,
    tag: string,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    try {
      const response = await deps.endpoint.send({
        operation: 'tags.delete',
        method: 'DELETE',
        url: registryUrl(deps, repository, `manifests/${tag}`),
        auth: { kind: 'registry', repository, actions: ['delete'] },
        acceptStatus: [400, 405],
        ...signalOption(signal),
      });
      await discard(response);
      // distribution answers 400 (DIGEST_INVALID / UNSUPPORTED) or 405: it deletes by digest only.
      return response.status >= 200 && response.status < 300;
    } catch (error) {
      throw explainDeleteFailure(deps, error, `tag ${host}/${repository}:${tag}`);
    }
  }

  /** Puts a fresh placeholder on the tag (uploading the 2-byte empty config first); returns its digest. */
  async function putPlaceholder(
    repository: string,
    tag: string,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    await blobs.upload(repository, EMPTY_JSON_BYTES, {
      digest: EMPTY_JSON_DIGEST,
      mediaType: MediaType.OciEmpty,
      ...signalOption(signal),
    });
    const id = deps.limits.randomId?.() ?? randomUUID();
    const placeholder = buildUntagPlaceholder(id, new Date(deps.limits.clock.now()));
    await putOne(deps, repository, placeholder, tag, signal);
    return placeholder.digest;
  }
}

function parseTagPage(bytes: Uint8Array, where: string): string[] {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ProtocolError(`tag list of ${where} is not JSON; the registry answered something else`, {
      cause: error,
    });
  }
  if (typeof document !== 'object' || document === null) {
    throw new ProtocolError(`tag list of ${where} is not a JSON object`);
  }
  const tags = (document as { tags?: unknown }).tags;
  // A repository without tags answers `"tags": null` (distribution) or omits it.
  if (tags === null || tags === undefined) return [];
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) {
    throw new ProtocolError(`tag list of ${where}: "tags" is not an array of strings`);
  }
  return tags;
}
