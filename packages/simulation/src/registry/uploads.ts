import { type Digest, isDigest } from '@ghcr/oci-types';
import { http, type RequestHandler } from 'msw';
import type { RepositoryRecord, UploadSession } from '../state/records.js';
import { mayPull } from './auth.js';
import { discardBody, numericHeader, pipeBodyTo } from './body.js';
import { param, type RegistryEnvironment } from './environment.js';
import { emptyResponse, registryError } from './errors.js';
import { blobPath, guard } from './guard.js';

/** GHCR's message for a PATCH body over its per-request limit. @internal */
export function chunkTooLargeMessage(limit: number): string {
  return `the request body is too large and exceeds the maximum permissible limit of ${(limit / (1024 * 1024)).toFixed(2)}MiB`;
}

/** Runs `work` when every earlier request on the session has finished. */
async function serialised<T>(session: UploadSession, work: () => Promise<T>): Promise<T> {
  const previous = session.queue;
  let release: () => void = () => {};
  session.queue = new Promise<void>((resolve) => {
    release = resolve;
  });
  await previous;
  try {
    return await work();
  } finally {
    release();
  }
}

function rangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}

/**
 * Blob uploads: POST (session, single-request `?digest=`, `?mount=&from=`), PATCH (streamed or
 * chunked with Content-Range), PUT `?digest=`, GET status, DELETE.
 * @internal
 */
export function createUploadHandlers(env: RegistryEnvironment): RequestHandler[] {
  const { context, routes } = env;
  const { state } = context;

  const sessionLocation = (name: string, session: UploadSession): string => {
    const path = `/v2/${name}/blobs/uploads/${session.id}`;
    // distribution answers absolute Locations carrying opaque state; GHCR relative paths.
    return env.ghcr
      ? path
      : `${context.options.registryUrl}${path}?_state=${encodeURIComponent(Buffer.from(session.id).toString('base64url'))}`;
  };

  const sessionHeaders = (name: string, session: UploadSession): Record<string, string> => ({
    location: sessionLocation(name, session),
    range: rangeHeader(session.writer.size),
    'docker-upload-uuid': session.id,
  });

  const created = (name: string, digest: Digest): Response =>
    emptyResponse(201, { location: blobPath(name, digest), 'docker-content-digest': digest });

  const lookup = (
    name: string,
    id: string,
  ): { repository: RepositoryRecord; session: UploadSession } | Response => {
    const repository = state.getRepository(name);
    const session = repository === undefined ? undefined : state.getUpload(repository, id);
    if (repository === undefined || session === undefined) {
      return registryError(404, 'BLOB_UPLOAD_UNKNOWN', { detail: { session: id } });
    }
    return { repository, session };
  };

  /** Checks Content-Range/Content-Length of a chunk against the session offset. */
  const checkChunk = (request: Request, name: string, session: UploadSession): Response | undefined => {
    const contentRange = request.headers.get('content-range');
    if (contentRange === null) return undefined;
    const match = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(contentRange.trim());
    const declared = numericHeader(request, 'content-length');
    const start = match === null ? Number.NaN : Number(match[1]);
    const end = match === null ? Number.NaN : Number(match[2]);
    if (
      match === null ||
      start !== session.writer.size ||
      end < start ||
      (declared !== undefined && declared !== end - start + 1)
    ) {
      return registryError(416, 'BLOB_UPLOAD_INVALID', {
        message: `the chunk must start at offset ${session.writer.size} (Content-Range ${contentRange} was given)`,
        headers: { ...sessionHeaders(name, session), 'content-range': contentRange },
      });
    }
    return undefined;
  };

  /** Appends a PATCH or PUT body to an open session; a Response when the chunk was refused. */
  const appendChunk = async (
    request: Request,
    name: string,
    session: UploadSession,
  ): Promise<Response | undefined> => {
    if (session.closed) return registryError(404, 'BLOB_UPLOAD_UNKNOWN', { detail: { session: session.id } });
    const refused = checkChunk(request, name, session);
    if (refused !== undefined) {
      await discardBody(request);
      return refused;
    }
    const piped = await pipeBodyTo(request, session.writer);
    if (!piped.ok)
      return registryError(400, 'BLOB_UPLOAD_INVALID', { message: 'the request body ended early' });
    return undefined;
  };

  return [
    http.post(routes.uploads, async ({ request, params }) => {
      const name = param(params, 'name');
      const principal = guard(env, request, name, ['pull', 'push']);
      if (principal instanceof Response) return principal;
      // GHCR's own budget for upload POSTs ("TOOMANYREQUESTS: retry-after: …, allowed: 2000/minute"
      // reported in chainguard-images/images#173), on top of the request budget.
      const tooMany = env.ghcr ? env.uploadStarts.take() : undefined;
      if (tooMany !== undefined) {
        await discardBody(request);
        return tooMany;
      }
      const url = new URL(request.url);
      const mount = url.searchParams.get('mount');
      const digestParam = url.searchParams.get('digest');
      const repository = state.ensureRepository(name, principal.user);

      if (mount !== null) {
        if (!isDigest(mount)) return registryError(400, 'DIGEST_INVALID', { detail: { digest: mount } });
        const from = url.searchParams.get('from');
        const candidates =
          from === null
            ? state.listRepositories().filter((candidate) => candidate.name !== name)
            : [state.getRepository(from)].filter(
                (candidate): candidate is RepositoryRecord => candidate !== undefined,
              );
        const source = candidates.find(
          (candidate) => state.hasBlob(candidate, mount) && mayPull(context, request, candidate.name),
        );
        if (source !== undefined || state.hasBlob(repository, mount)) {
          await discardBody(request);
          state.linkBlob(repository, mount);
          return created(name, mount);
        }
        // Not mountable: a plain upload session (spec: 202 with a session).
      }

      if (digestParam !== null && mount === null) {
        if (!isDigest(digestParam))
          return registryError(400, 'DIGEST_INVALID', { detail: { digest: digestParam } });
        const writer = state.store.createWriter();
        const piped = await pipeBodyTo(request, writer);
        if (!piped.ok) {
          await writer.abort();
          return registryError(400, 'BLOB_UPLOAD_INVALID', { message: 'the request body ended early' });
        }
        const result = await writer.commit(digestParam);
        if (!result.ok) {
          await writer.abort();
          return registryError(400, 'DIGEST_INVALID', {
            detail: { expected: digestParam, actual: result.actual },
          });
        }
        state.linkBlob(repository, result.digest);
        return created(name, result.digest);
      }

      await discardBody(request);
      const session = state.createUpload(repository);
      return emptyResponse(202, sessionHeaders(name, session));
    }),

    http.patch(routes.upload, async ({ request, params }) => {
      const name = param(params, 'name');
      const principal = guard(env, request, name, ['pull', 'push']);
      if (principal instanceof Response) return principal;
      const found = lookup(name, param(params, 'session'));
      if (found instanceof Response) return found;
      const { session } = found;
      const declared = numericHeader(request, 'content-length');
      if (env.ghcr && declared !== undefined && declared > context.options.maxUploadChunkBytes) {
        await discardBody(request);
        return registryError(416, 'SIZE_INVALID', {
          message: chunkTooLargeMessage(context.options.maxUploadChunkBytes),
          headers: sessionHeaders(name, session),
        });
      }
      return serialised(session, async () => {
        const refused = await appendChunk(request, name, session);
        return refused ?? emptyResponse(202, sessionHeaders(name, session));
      });
    }),

    http.put(routes.upload, async ({ request, params }) => {
      const name = param(params, 'name');
      const principal = guard(env, request, name, ['pull', 'push']);
      if (principal instanceof Response) return principal;
      const found = lookup(name, param(params, 'session'));
      if (found instanceof Response) return found;
      const { repository, session } = found;
      const digest = new URL(request.url).searchParams.get('digest');
      if (digest === null || !isDigest(digest)) {
        await discardBody(request);
        return registryError(400, 'DIGEST_INVALID', {
          message:
            digest === null
              ? 'the digest query parameter is required to close an upload'
              : SPEC_DIGEST_INVALID,
          detail: { digest },
        });
      }
      return serialised(session, async () => {
        const refused = await appendChunk(request, name, session);
        if (refused !== undefined) return refused;
        const result = await session.writer.commit(digest);
        if (!result.ok) {
          await state.closeUpload(repository, session, true);
          return registryError(400, 'DIGEST_INVALID', {
            detail: { expected: digest, actual: result.actual },
          });
        }
        await state.closeUpload(repository, session, false);
        state.linkBlob(repository, result.digest);
        return created(name, result.digest);
      });
    }),

    http.get(routes.upload, async ({ request, params }) => {
      const name = param(params, 'name');
      const principal = guard(env, request, name, ['pull', 'push']);
      if (principal instanceof Response) return principal;
      const found = lookup(name, param(params, 'session'));
      if (found instanceof Response) return found;
      return emptyResponse(204, sessionHeaders(name, found.session));
    }),

    http.delete(routes.upload, async ({ request, params }) => {
      const name = param(params, 'name');
      const principal = guard(env, request, name, ['pull', 'push']);
      if (principal instanceof Response) return principal;
      const found = lookup(name, param(params, 'session'));
      if (found instanceof Response) return found;
      await state.closeUpload(found.repository, found.session, true);
      return emptyResponse(204);
    }),
  ];
}

const SPEC_DIGEST_INVALID = 'provided digest did not match uploaded content';
