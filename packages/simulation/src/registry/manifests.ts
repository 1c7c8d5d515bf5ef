import { manifestChildren, type ParsedManifest, parseManifest } from '@ghcr/manifest';
import { type Digest, definedProps, GhcrError, isDigest, isValidTag, MediaType } from '@ghcr/oci-types';
import { http, type RequestHandler } from 'msw';
import { dockerHubOptionsOf } from '../options.js';
import type { ManifestRecord, ManifestReference } from '../state/records.js';
import type { ManifestInput } from '../state/simulation-state.js';
import { discardBody, numericHeader, readCapped } from './body.js';
import { param, type RegistryEnvironment } from './environment.js';
import {
  type ErrorEntry,
  REGISTRY_HEADERS,
  registryError,
  registryErrors,
  SPEC_ERROR_MESSAGES,
} from './errors.js';
import { guard, manifestPath } from './guard.js';
import { sourceAddressOf } from './pull-quota.js';

const UNSUPPORTED_MESSAGE = 'The operation is unsupported.';
const OCI_TYPES = new Set<string>([MediaType.OciManifest, MediaType.OciIndex]);

function mediaTypesOf(accept: string): string[] {
  return accept
    .split(',')
    .map((part) => (part.split(';')[0] ?? '').trim().toLowerCase())
    .filter((part) => part !== '');
}

/**
 * distribution's negotiation: an OCI manifest or index is served only when `Accept` names its
 * type (or when there is no `Accept` at all); Docker types are always served. The ghcr profile
 * also takes `*∕*` and `application/*` as accepting everything.
 * @internal
 */
export function acceptable(mediaType: string, accept: string | null, lenientWildcards: boolean): boolean {
  if (accept === null || accept.trim() === '') return true;
  if (!OCI_TYPES.has(mediaType)) return true;
  const types = mediaTypesOf(accept);
  if (types.includes(mediaType)) return true;
  return lenientWildcards && (types.includes('*/*') || types.includes('application/*'));
}

/** The referrers-API `artifactType` of a manifest (image-spec rules). */
function artifactTypeOf(parsed: ParsedManifest): string | undefined {
  switch (parsed.kind) {
    case 'oci-manifest':
      return parsed.manifest.artifactType ?? parsed.manifest.config.mediaType;
    case 'oci-index':
      return parsed.manifest.artifactType;
    default:
      return undefined;
  }
}

function annotationsOf(parsed: ParsedManifest): Record<string, string> | undefined {
  if (parsed.kind === 'oci-manifest' || parsed.kind === 'oci-index') return parsed.manifest.annotations;
  return undefined;
}

/**
 * What the state stores for a parsed manifest: its references (config, layers, children,
 * subject), subject digest, referrers-API artifactType and annotations.
 * @internal
 */
export function manifestInputOf(parsed: ParsedManifest): ManifestInput {
  const references: ManifestReference[] = manifestChildren(parsed).map((child) => ({
    role: child.role,
    digest: child.descriptor.digest as Digest,
    mediaType: child.descriptor.mediaType,
    size: child.descriptor.size,
  }));
  const subject = references.find((entry) => entry.role === 'subject')?.digest;
  const artifactType = artifactTypeOf(parsed);
  const annotations = annotationsOf(parsed);
  return {
    digest: parsed.digest,
    mediaType: parsed.mediaType,
    bytes: parsed.bytes,
    references,
    ...definedProps({ subject, artifactType }),
    ...(annotations === undefined ? {} : { annotations: { ...annotations } }),
  };
}

function manifestHeaders(manifest: ManifestRecord): Record<string, string> {
  return {
    ...REGISTRY_HEADERS,
    'content-type': manifest.mediaType,
    'content-length': String(manifest.size),
    'docker-content-digest': manifest.digest,
    etag: `"${manifest.digest}"`,
  };
}

/**
 * Manifest GET/HEAD/PUT/DELETE by tag or digest.
 * @internal
 */
export function createManifestHandlers(env: RegistryEnvironment): RequestHandler[] {
  const { context, routes } = env;
  const { state, options } = context;

  const getOrHead = async ({
    request,
    params,
  }: {
    request: Request;
    params: Record<string, string | readonly string[] | undefined>;
  }): Promise<Response> => {
    const name = param(params, 'name');
    const reference = param(params, 'reference');
    const principal = guard(env, request, name, ['pull']);
    if (principal instanceof Response) return principal;
    const repository = state.getRepository(name);
    if (repository === undefined) return registryError(404, 'NAME_UNKNOWN', { detail: { name } });
    if (reference.includes(':') ? !isDigest(reference) : !isValidTag(reference)) {
      return registryError(404, 'MANIFEST_UNKNOWN', { detail: { reference } });
    }
    const manifest = state.resolveManifest(repository, reference);
    if (manifest === undefined) return registryError(404, 'MANIFEST_UNKNOWN', { detail: { reference } });
    if (!acceptable(manifest.mediaType, request.headers.get('accept'), env.ghcr)) {
      return registryError(404, 'MANIFEST_UNKNOWN', {
        message: `OCI manifest found, but accept header does not support OCI manifests (${manifest.mediaType})`,
        detail: { reference },
      });
    }
    let quota: Record<string, string> = {};
    if (env.dockerhub) {
      // Hub's pull quota: this GET counts (a HEAD does not); both say what is left.
      const applied = env.quota.apply(
        {
          ...definedProps({ user: principal.user }),
          address: sourceAddressOf(request, dockerHubOptionsOf(options).anonymousSource),
        },
        request.method,
      );
      if (applied instanceof Response) return applied;
      quota = applied;
    }
    if (request.method === 'HEAD')
      return new Response(null, { status: 200, headers: { ...manifestHeaders(manifest), ...quota } });
    state.recordDownload(manifest);
    return new Response(manifest.bytes, { status: 200, headers: { ...manifestHeaders(manifest), ...quota } });
  };

  return [
    http.get(routes.manifest, getOrHead),
    http.head(routes.manifest, getOrHead),

    http.put(routes.manifest, async ({ request, params }) => {
      const name = param(params, 'name');
      const reference = param(params, 'reference');
      const principal = guard(env, request, name, ['pull', 'push']);
      if (principal instanceof Response) return principal;
      const byDigest = reference.includes(':');
      if (byDigest ? !isDigest(reference) : !isValidTag(reference)) {
        await discardBody(request);
        return byDigest
          ? registryError(400, 'DIGEST_INVALID', { detail: { digest: reference } })
          : registryError(400, 'MANIFEST_INVALID', {
              message: `invalid tag "${reference}"`,
              detail: { tag: reference },
            });
      }
      const limit = options.maxManifestBytes;
      const tooLarge = (size: number): Response =>
        registryError(413, 'MANIFEST_INVALID', {
          message: `manifest too large: ${size} bytes exceeds the limit of ${limit} bytes`,
          detail: { limit },
        });
      const declared = numericHeader(request, 'content-length');
      if (declared !== undefined && declared > limit) {
        await discardBody(request);
        return tooLarge(declared);
      }
      const body = await readCapped(request, limit);
      if (!body.ok) return tooLarge(body.received);
      const contentType = request.headers.get('content-type') ?? undefined;
      let parsed: ParsedManifest;
      try {
        parsed = parseManifest(body.bytes, {
          ...definedProps({ contentType }),
          maxBytes: limit,
          ...(byDigest && !reference.startsWith('sha256:') ? { expectedDigest: reference } : {}),
        });
      } catch (error) {
        if (GhcrError.isInstance(error) && error.code === 'GHCR_DIGEST_MISMATCH') {
          return registryError(400, 'DIGEST_INVALID', { detail: { digest: reference } });
        }
        const reason = error instanceof Error ? error.message : String(error);
        return registryError(400, 'MANIFEST_INVALID', { detail: { reason } });
      }
      if (byDigest && parsed.digest !== reference) {
        return registryError(400, 'DIGEST_INVALID', {
          detail: { expected: reference, actual: parsed.digest },
        });
      }
      const existing = state.getRepository(name);
      const input = manifestInputOf(parsed);
      const missing: ErrorEntry[] = [];
      for (const child of manifestChildren(parsed)) {
        const { descriptor } = child;
        if (child.role === 'subject') continue;
        if (descriptor.urls !== undefined && descriptor.urls.length > 0) continue;
        const present =
          existing !== undefined &&
          (child.role === 'manifest'
            ? state.resolveManifest(existing, descriptor.digest) !== undefined
            : state.hasBlob(existing, descriptor.digest as Digest));
        if (!present) {
          missing.push({
            code: 'MANIFEST_BLOB_UNKNOWN',
            message: SPEC_ERROR_MESSAGES.MANIFEST_BLOB_UNKNOWN,
            detail: { digest: descriptor.digest },
          });
        }
      }
      if (missing.length > 0) return registryErrors(400, missing);
      const subject = input.subject;
      const repository = existing ?? state.ensureRepository(name, principal.user);
      const stored = state.putManifest(repository, input, byDigest ? undefined : reference);
      return new Response(null, {
        status: 201,
        headers: {
          ...REGISTRY_HEADERS,
          location: manifestPath(name, stored.digest),
          'docker-content-digest': stored.digest,
          'content-length': '0',
          ...(subject !== undefined && !env.ghcr ? { 'oci-subject': subject } : {}),
        },
      });
    }),

    http.delete(routes.manifest, async ({ request, params }) => {
      const name = param(params, 'name');
      const reference = param(params, 'reference');
      if (env.ghcr) {
        const principal = guard(env, request, name, ['pull']);
        if (principal instanceof Response) return principal;
        return registryError(405, 'UNSUPPORTED', { message: UNSUPPORTED_MESSAGE });
      }
      const principal = guard(env, request, name, ['delete']);
      if (principal instanceof Response) return principal;
      const repository = state.getRepository(name);
      if (repository === undefined) return registryError(404, 'NAME_UNKNOWN', { detail: { name } });
      const deleted = reference.includes(':')
        ? isDigest(reference) && state.deleteManifest(repository, reference)
        : state.deleteTag(repository, reference);
      if (!deleted) return registryError(404, 'MANIFEST_UNKNOWN', { detail: { reference } });
      return new Response(null, { status: 202, headers: { ...REGISTRY_HEADERS, 'content-length': '0' } });
    }),
  ];
}
