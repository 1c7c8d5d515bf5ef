import type { Readable } from 'node:stream';
import {
  createDigester,
  type Descriptor,
  type Digest,
  type DigestAlgorithm,
  DigestMismatchError,
  GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  MissingHeaderError,
  parseDigest,
  UploadError,
} from '@ghcr/oci-types';
import type { AuthHint, RequestBody, TransportResponse, ViewBody, ViewConsumer } from '@ghcr/transport';
import { GHCR_MAX_CHUNK_BYTES } from '../options.js';
import { ProgressReporter } from '../progress.js';
import { type BlobOpenOptions, type BlobSource, closeQuietly } from './blob-source.js';
import { ChunkReader } from './chunk-reader.js';
import type { RegistryDependencies, UploadLimits } from './dependencies.js';
import { hasViews, type ViewSource } from './each-chunk.js';
import { discard, header } from './responses.js';
import { isResumable, messageOf, waitBeforeResume } from './resume.js';
import { appendQuery, registryUrl, resolveLocation } from './urls.js';

const OCTET_STREAM = 'application/octet-stream';

/**
 * What an upload request body holds of its source at once. The transport writes each chunk to
 * the socket and (a chunk being larger than the socket's 64 KiB mark) takes the next only once
 * the socket has flushed it; between the source and the socket each stream layer reads at most
 * one chunk ahead. So a chunk is done with long before 4 later ones have been taken (the upload
 * tests pass with 1), and a source
 * may read into a ring of buffers instead of allocating one per chunk (`recycleAfter`). Were a
 * buffer reused too early, the registry would refuse the upload's digest (DIGEST_INVALID), not
 * store other bytes.
 */
const UPLOAD_READ: BlobOpenOptions = { recycleAfter: 4 };

/**
 * Options of `Blobs.upload`.
 * @public
 */
export interface UploadBlobOptions {
  /** The blob's digest. If omitted, a first pass over the source computes it (give it to save that read). */
  readonly digest?: string | undefined;
  /** The blob's size. If omitted, the source's `size`, else measured by the first pass. */
  readonly size?: number | undefined;
  /** Media type for the returned descriptor and the `pushed` event. If omitted, `application/octet-stream`. */
  readonly mediaType?: string | undefined;
  /**
   * A repository on the same registry that has the blob: a cross-repository mount is tried first
   * (201: done, no bytes move; 202: the registry opened an upload, which continues). If omitted, no mount.
   */
  readonly mountFrom?: string | undefined;
  /** Skip the HEAD that avoids re-uploading a blob the repository has. If omitted, false. */
  readonly skipExistsCheck?: boolean | undefined;
  /** Bytes per PATCH for this upload. If omitted, the client's `chunkSize`. */
  readonly chunkSize?: number | undefined;
  /** Upload in one PUT up to this size. If omitted, the client's `monolithicThreshold`. */
  readonly monolithicThreshold?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * What `Blobs.upload` did.
 * @public
 */
export interface UploadBlobResult {
  readonly descriptor: Descriptor;
  /** `exists`: the repository had it; `mounted`: linked from `mountFrom`; `uploaded`: bytes were sent. */
  readonly method: 'exists' | 'mounted' | 'uploaded';
}

/** An open upload session: where to send the next request, and the registry's minimum chunk. */
interface UploadSession {
  url: string;
  minChunk: number;
}

/** What opening, closing or cancelling an upload session needs. */
type SessionJob = Pick<UploadJob, 'deps' | 'repository' | 'signal' | 'describe'>;

/** What one upload needs, resolved. */
interface UploadJob {
  readonly deps: RegistryDependencies<UploadLimits>;
  readonly repository: string;
  readonly source: BlobSource;
  readonly digest: Digest;
  readonly size: number;
  readonly signal: AbortSignal | undefined;
  readonly describe: string;
  readonly progress: ProgressReporter;
}

const pushAuth = (repository: string): Extract<AuthHint, { kind: 'registry' }> => ({
  kind: 'registry',
  repository,
  actions: ['pull', 'push'],
});

/**
 * Finds the digest and size of a source, reading it once when either is not given.
 * @internal
 */
export async function identifySource(
  source: BlobSource,
  options: {
    readonly digest?: string | undefined;
    readonly size?: number | undefined;
    readonly signal?: AbortSignal | undefined;
  },
): Promise<{ digest: Digest; size: number }> {
  if (options.size !== undefined && source.size !== undefined && options.size !== source.size) {
    throw new InvalidInputError(
      `the blob's size was given as ${options.size} bytes but the source has ${source.size}; give the right size or none`,
    );
  }
  const digest = options.digest === undefined ? undefined : parseDigest(options.digest).digest;
  const size = options.size ?? source.size;
  if (digest !== undefined && size !== undefined) return { digest, size };
  const algorithm = digest === undefined ? 'sha256' : (parseDigest(digest).algorithm as DigestAlgorithm);
  const digester = createDigester(algorithm);
  // Each chunk is hashed before the next is taken: the source may reuse one buffer.
  const stream = source.open(0, options.signal, { recycleAfter: 1 });
  try {
    for await (const chunk of stream) digester.update(chunk);
  } finally {
    closeQuietly(stream);
  }
  const actual = digester.digest();
  if (digest !== undefined && actual !== digest) {
    throw new DigestMismatchError(
      `the blob source does not hash to the digest given: expected ${digest}, got ${actual}; give the right digest, or none to have it computed`,
      { expected: digest, actual },
    );
  }
  if (size !== undefined && digester.size !== size) {
    throw new InvalidInputError(
      `the blob source yielded ${digester.size} bytes but its size is ${size}; fix the source or the size`,
    );
  }
  return { digest: actual, size: digester.size };
}

/**
 * Pushes one blob: mount (when asked), then a monolithic PUT or a chunked PATCH sequence that
 * resumes from the session's offset after a failure. The existence check is the caller's.
 * @internal
 */
export async function pushBlob(
  deps: RegistryDependencies<UploadLimits>,
  repository: string,
  source: BlobSource,
  identity: { digest: Digest; size: number },
  options: UploadBlobOptions,
): Promise<'mounted' | 'uploaded'> {
  const job: UploadJob = {
    deps,
    repository,
    source,
    digest: identity.digest,
    size: identity.size,
    signal: options.signal,
    describe: `upload of blob ${identity.digest} to ${deps.endpoint.host}/${repository}`,
    progress: new ProgressReporter(deps, {
      operation: 'blobs.upload',
      registry: deps.endpoint.host,
      repository,
      digest: identity.digest,
      bytesTotal: identity.size,
    }),
  };
  let session: UploadSession | undefined;
  if (options.mountFrom !== undefined && options.mountFrom !== repository) {
    const mounted = await mount(job, options.mountFrom);
    if (mounted === 'mounted') {
      job.progress.report(job.size, true);
      return 'mounted';
    }
    session = mounted;
  }
  const threshold = options.monolithicThreshold ?? deps.limits.monolithicThreshold;
  const chunkSize = options.chunkSize ?? deps.limits.chunkSize;
  if (job.size <= threshold) {
    const outcome = await monolithic(job, session);
    if (outcome === 'uploaded') return 'uploaded';
    if (outcome !== 'too-large') {
      // The PUT broke off but the session kept what arrived: the rest goes up as PATCHes.
      await chunked(job, outcome.session, chunkSize, outcome.offset);
      return 'uploaded';
    }
    // The registry refused the whole blob in one request as too large (GHCR caps a request body
    // at 4 MiB): send it in chunks no larger than that cap, halving further on another 416.
    await chunked(job, await startSession(job), Math.min(chunkSize, GHCR_MAX_CHUNK_BYTES));
  } else {
    await chunked(job, session ?? (await startSession(job)), chunkSize);
  }
  return 'uploaded';
}

/** POST .../blobs/uploads/ → 202 with the session's Location. */
async function startSession(job: SessionJob): Promise<UploadSession> {
  const url = registryUrl(job.deps, job.repository, 'blobs/uploads/');
  const response = await job.deps.endpoint.send({
    operation: 'blobs.upload',
    method: 'POST',
    url,
    contentLength: 0,
    auth: pushAuth(job.repository),
    ...signalOf(job),
  });
  await discard(response);
  return sessionFrom(response, url, job.describe);
}

/** Reads the session's Location (and `OCI-Chunk-Min-Length`) from a 202. */
function sessionFrom(response: TransportResponse, requestUrl: string, describe: string): UploadSession {
  const location = header(response, 'location');
  if (location === undefined || location === '') {
    throw new MissingHeaderError(
      `${describe}: the registry answered ${response.status} without a Location header for the upload session; it does not follow the distribution spec`,
      { header: 'Location' },
    );
  }
  const minimum = Number(header(response, 'oci-chunk-min-length') ?? '0');
  return {
    url: resolveLocation(location, requestUrl),
    minChunk: Number.isSafeInteger(minimum) && minimum > 0 ? minimum : 0,
  };
}

/** POST ?mount=&from=: 201 → mounted; 202 → the upload session the registry opened instead. */
async function mount(job: UploadJob, from: string): Promise<'mounted' | UploadSession> {
  const url = `${registryUrl(job.deps, job.repository, 'blobs/uploads/')}?mount=${encodeURIComponent(
    job.digest,
  )}&from=${encodeURIComponent(from)}`;
  const response = await job.deps.endpoint.send({
    operation: 'blobs.mount',
    method: 'POST',
    url,
    contentLength: 0,
    // One token for both repositories: push here, pull on the source (distribution token spec).
    auth: { ...pushAuth(job.repository), extraScopes: [{ repository: from, actions: ['pull'] }] },
    ...signalOf(job),
  });
  await discard(response);
  if (response.status === 201) {
    checkDigestHeader(response, job, 'mount');
    return 'mounted';
  }
  return sessionFrom(response, url, job.describe);
}

/** The registry's Docker-Content-Digest must name what was sent (when it says anything). */
function checkDigestHeader(
  response: TransportResponse,
  job: Pick<UploadJob, 'digest' | 'describe'>,
  step: string,
): void {
  const reported = header(response, 'docker-content-digest');
  if (reported !== undefined && reported !== '' && reported !== job.digest) {
    throw new DigestMismatchError(
      `${job.describe}: the registry reports digest ${reported} after the ${step}, not ${job.digest}; the registry stored other content, push again`,
      { expected: job.digest, actual: reported },
    );
  }
}

const signalOf = (job: Pick<UploadJob, 'signal'>): { signal?: AbortSignal | undefined } =>
  job.signal === undefined ? {} : { signal: job.signal };

/**
 * A request body of `length` bytes pulled from `reader`, counting bytes for progress. One-shot on
 * purpose: the transport must not re-send it to the same session (the session may hold part of
 * it); this module resumes from the session's offset instead.
 */
function countedBody(reader: ChunkReader, length: number, job: UploadJob, start: number): RequestBody {
  const body = reader.take(length, job.describe);
  return {
    async *[Symbol.asyncIterator]() {
      let sent = 0;
      for await (const piece of body) {
        sent += piece.byteLength;
        job.progress.report(start + sent);
        yield piece;
      }
    },
  };
}

/** Tells `retry` listeners (the CLI's `--debug`) that an upload goes on after a failure, and how. */
function announce(
  job: UploadJob,
  action: 'resume' | 'restart',
  offset: number,
  attempt: number,
  error: unknown,
): void {
  const next =
    action === 'resume'
      ? `the session kept ${offset} bytes: resuming from byte ${offset}`
      : 'the registry dropped the upload session: starting over from byte 0 with a new one';
  job.deps.events.emit('retry', {
    operation: 'blobs.upload',
    registry: job.deps.endpoint.host,
    repository: job.repository,
    digest: job.digest,
    action,
    offset,
    attempt,
    message: `${job.describe}: ${messageOf(error)}; ${next} (attempt ${attempt})`,
  });
}

/** The session's status after a failed request, or undefined when it cannot be had (start over). */
async function statusAfterFailure(
  job: UploadJob,
  session: UploadSession,
  lastConfirmed: number,
): Promise<{ session: UploadSession; offset: number } | undefined> {
  try {
    return await sessionStatus(job, session, lastConfirmed);
  } catch (error) {
    if (!isResumable(error, job.signal)) throw error;
    return undefined;
  }
}

/**
 * POST (unless a mount opened the session) + one PUT ?digest= carrying the whole blob. After a
 * failure mid-body the session is asked for its offset (`GET`, `Range`): a registry that kept the
 * bytes gets only the rest (the caller continues with PATCHes from `offset`); one that dropped
 * the session (docker-registry 2.8 does, after a broken PUT) gets a new session and the whole
 * blob again. `'too-large'` when the registry refused the body as too large (413, or 416 for a
 * blob over 4 MiB, as GHCR answers a body over its cap): the session is cancelled and the caller
 * switches to chunks.
 */
async function monolithic(
  job: UploadJob,
  opened: UploadSession | undefined,
): Promise<'uploaded' | 'too-large' | { session: UploadSession; offset: number }> {
  let session = opened;
  let failures = 0;
  for (;;) {
    let close: (() => void) | undefined;
    let bodySent = false;
    try {
      // The source opens first: a blob read from another registry starts its GET now, while the
      // POST is on its way, instead of after it (the body waits in the source's buffer).
      const opened = job.source.open(0, job.signal, UPLOAD_READ);
      let body: RequestBody;
      if (hasViews(opened)) {
        const views = viewBody(opened, job);
        close = views.close;
        body = views;
      } else {
        const reader = new ChunkReader(opened);
        close = () => reader.close();
        body = countedBody(reader, job.size, job, 0);
      }
      session ??= await startSession(job);
      bodySent = true;
      const response = await job.deps.endpoint.send({
        operation: 'blobs.upload',
        method: 'PUT',
        url: appendQuery(session.url, 'digest', job.digest),
        headers: { 'content-type': OCTET_STREAM },
        body,
        contentLength: job.size,
        auth: pushAuth(job.repository),
        ...(job.size > GHCR_MAX_CHUNK_BYTES ? { acceptStatus: [413, 416] } : {}),
        ...signalOf(job),
      });
      await discard(response);
      if (response.status === 413 || response.status === 416) {
        await cancelSession(job, session);
        job.progress.report(0, true);
        return 'too-large';
      }
      checkDigestHeader(response, job, 'upload');
      job.progress.report(job.size, true);
      return 'uploaded';
    } catch (error) {
      if (!isResumable(error, job.signal, bodySent) || failures >= job.deps.limits.maxResumeAttempts) {
        if (session !== undefined) await cancelSession(job, session);
        throw finalError(error, job, 0, failures);
      }
      failures += 1;
      await waitBeforeResume(job.deps, failures, error, job.signal);
      const status =
        bodySent && session !== undefined ? await statusAfterFailure(job, session, 0) : undefined;
      if (status !== undefined && status.offset > 0) {
        announce(job, 'resume', status.offset, failures + 1, error);
        return status;
      }
      if (bodySent) announce(job, 'restart', 0, failures + 1, error);
      // The session is gone, holds nothing, or its state is unknown: open a fresh one (the
      // registry purges a stale session by itself).
      session = undefined;
    } finally {
      close?.();
    }
  }
}

/**
 * The body of a monolithic upload from a source that hands out views (a blob read from another
 * registry on the transport's own connections): the transport's own connections write each view
 * to the socket as it is, with no copy and no stream in between, and the source reads into a
 * buffer again only once the socket took what it held (docs/benchmarks.md, "Issue 18, seventeenth
 * round").
 * The source starts at once (its GET goes out while the upload session opens); its first view
 * waits for the body to be sent. A dispatcher (undici, a simulation) iterates the body instead,
 * and gets a copy of each view. Exactly `job.size` bytes, or an UploadError.
 */
function viewBody(
  stream: (Readable | AsyncIterable<Uint8Array>) & ViewSource,
  job: UploadJob,
): ViewBody & { close(): void } {
  let deliver: ViewConsumer | undefined;
  let attach = (): void => {};
  const attached = new Promise<void>((resolve) => {
    attach = resolve;
  });
  let sent = 0;
  const forward: ViewConsumer = (view) => {
    sent += view.byteLength;
    if (sent > job.size) {
      throw new UploadError(
        `${job.describe}: the source yielded more than the ${job.size} bytes it declared; it must yield exactly its size`,
        { isRetryable: false },
      );
    }
    job.progress.report(sent);
    return (deliver as ViewConsumer)(view);
  };
  const read = stream
    .eachView((view) => (deliver === undefined ? attached.then(() => forward(view)) : forward(view)))
    .then(() => {
      if (sent < job.size) {
        throw new UploadError(
          `${job.describe}: the source ended ${job.size - sent} bytes early; it must yield exactly the size it declared, and the same bytes each time it is opened`,
          { isRetryable: false },
        );
      }
    });
  // Read by the transport, or dropped when the upload fails before it sends the body.
  read.catch(() => {});
  const eachView = (onView: ViewConsumer): Promise<void> => {
    if (deliver !== undefined) return Promise.reject(new Error('the upload body was already read'));
    deliver = onView;
    attach();
    return read;
  };
  return {
    eachView,
    [Symbol.asyncIterator]: () => copiedViews(eachView),
    close: () => closeQuietly(stream),
  };
}

/**
 * Iterates a body read with `eachView`, yielding a copy of each view (the reader may keep what it
 * was given); the next view comes once the last one was taken.
 */
async function* copiedViews(eachView: ViewBody['eachView']): AsyncGenerator<Uint8Array> {
  let next: { readonly bytes: Uint8Array; readonly taken: () => void } | undefined;
  let wake: (() => void) | undefined;
  let ended = false;
  let failure: { readonly error: unknown } | undefined;
  eachView(
    (view) =>
      new Promise<void>((taken) => {
        next = { bytes: Buffer.from(view), taken };
        wake?.();
      }),
  ).then(
    () => {
      ended = true;
      wake?.();
    },
    (error: unknown) => {
      failure = { error };
      ended = true;
      wake?.();
    },
  );
  for (;;) {
    if (next === undefined && !ended) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    const piece = next;
    if (piece !== undefined) {
      next = undefined;
      piece.taken();
      yield piece.bytes;
      continue;
    }
    if (failure !== undefined) throw failure.error;
    if (ended) return;
  }
}

/**
 * Options of `Blobs.uploadStream`.
 * @public
 */
export interface UploadStreamOptions {
  /** Media type for the returned descriptor and the `pushed` event. If omitted, `application/octet-stream`. */
  readonly mediaType?: string | undefined;
  /** Stops the upload: the session is cancelled and nothing is committed. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Pushes content read once from a stream, its digest learnt as it is sent: POST, one PATCH whose
 * body is the whole stream (chunked transfer encoding: no declared length, as Docker streams a
 * layer), then `PUT ?digest=` with the sha256 of what was sent. Not resumable: the stream cannot
 * be read again, so a failure cancels the session and fails.
 * @internal
 */
export async function pushStream(
  deps: RegistryDependencies<UploadLimits>,
  repository: string,
  content: Readable | AsyncIterable<Uint8Array>,
  options: UploadStreamOptions,
): Promise<{ digest: Digest; size: number }> {
  const job: SessionJob = {
    deps,
    repository,
    signal: options.signal,
    describe: `streamed upload of a blob to ${deps.endpoint.host}/${repository}`,
  };
  const digester = createDigester('sha256');
  let session = await startSession(job);
  // A stream that fails is the cause, whatever the request's failure then says.
  let streamFailure: { error: unknown } | undefined;
  try {
    const hashed = (async function* hashed() {
      const iterator = (content as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      let finished = false;
      try {
        for (;;) {
          let next: IteratorResult<Uint8Array>;
          try {
            next = await iterator.next();
          } catch (error) {
            // The stream's own failure (not one the request throws in, as an abort does).
            finished = true;
            streamFailure = { error };
            throw error;
          }
          if (next.done === true) {
            finished = true;
            return;
          }
          digester.update(next.value);
          yield next.value;
        }
      } finally {
        if (!finished) closeQuietly(iterator);
      }
    })();
    const patched = await deps.endpoint.send({
      operation: 'blobs.upload',
      method: 'PATCH',
      url: session.url,
      headers: { 'content-type': OCTET_STREAM },
      body: hashed,
      auth: pushAuth(repository),
      ...signalOf(job),
    });
    await discard(patched);
    // The Location of the PATCH's answer is where the upload continues (distribution spec).
    session = sessionFrom(patched, session.url, job.describe);
    const digest = digester.digest();
    const response = await deps.endpoint.send({
      operation: 'blobs.upload',
      method: 'PUT',
      url: appendQuery(session.url, 'digest', digest),
      headers: { 'content-type': OCTET_STREAM },
      contentLength: 0,
      auth: pushAuth(repository),
      ...signalOf(job),
    });
    await discard(response);
    checkDigestHeader(response, { digest, describe: job.describe }, 'upload');
    return { digest, size: digester.size };
  } catch (error) {
    await cancelSession(job, session);
    throw streamFailure === undefined ? error : streamFailure.error;
  }
}

/** Parses an upload `Range` (`0-<last>`, or `bytes=0-<last>`) into the next offset. @internal */
export function offsetFromRange(value: string | undefined, lastConfirmed: number): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:bytes=)?(\d+)-(\d+)$/.exec(value.trim());
  if (match === null) return undefined;
  const end = Number(match[2]);
  // distribution reports `0-0` both for an empty session and for one byte; what was confirmed
  // before decides (a session never shrinks).
  if (end === 0) return lastConfirmed >= 1 ? 1 : 0;
  return end + 1;
}

/** GET the session: its offset, or undefined when the registry no longer knows it (start again). */
async function sessionStatus(
  job: UploadJob,
  session: UploadSession,
  lastConfirmed: number,
): Promise<{ session: UploadSession; offset: number } | undefined> {
  const response = await job.deps.endpoint.send({
    operation: 'blobs.upload-status',
    method: 'GET',
    url: session.url,
    auth: pushAuth(job.repository),
    acceptStatus: [404, 400],
    ...signalOf(job),
  });
  await discard(response);
  // 404 BLOB_UPLOAD_UNKNOWN/INVALID: the spec says the client MUST restart (distribution does this
  // after a PATCH that broke off mid-body: its signed `_state` no longer matches the stored size).
  if (response.status === 404 || response.status === 400) return undefined;
  const offset = offsetFromRange(header(response, 'range'), lastConfirmed);
  if (offset === undefined || offset > job.size) return undefined;
  const location = header(response, 'location');
  return {
    session: {
      url: location === undefined || location === '' ? session.url : resolveLocation(location, session.url),
      minChunk: session.minChunk,
    },
    offset,
  };
}

/** DELETE the session, best effort, after giving up (the spec asks clients to). */
async function cancelSession(job: SessionJob, session: UploadSession): Promise<void> {
  try {
    const response = await job.deps.endpoint.send({
      operation: 'blobs.upload-cancel',
      method: 'DELETE',
      url: session.url,
      auth: pushAuth(job.repository),
      acceptStatus: [404, 405, 400],
    });
    await discard(response);
  } catch {
    // The registry purges stale sessions by itself.
  }
}

/**
 * PATCH chunk after chunk, then PUT ?digest=. After a failure: ask the session for its `Range` and
 * continue from there, re-reading the source from that offset; a session the registry lost is
 * started again from byte 0. A 416 (or a proxy's 413) means the registry refused the chunk: its size (GHCR caps a
 * request body at 4 MiB) or its position; the status tells which.
 */
async function chunked(
  job: UploadJob,
  opened: UploadSession,
  requestedChunk: number,
  startOffset = 0,
): Promise<void> {
  let session = opened;
  let chunkSize = Math.max(requestedChunk, session.minChunk);
  let offset = startOffset;
  let failures = 0;
  let needStatus = false;
  let lastError: unknown;
  let reader: ChunkReader | undefined;
  let readerAt = 0;
  const maxFailures = job.deps.limits.maxResumeAttempts;
  let bodySent = false;
  try {
    for (;;) {
      bodySent = false;
      try {
        if (needStatus) {
          needStatus = false;
          reader?.close();
          reader = undefined;
          const status = await sessionStatus(job, session, offset);
          if (status === undefined) {
            announce(job, 'restart', 0, failures + 1, lastError);
            session = await startSession(job);
            chunkSize = Math.max(chunkSize, session.minChunk);
            offset = 0;
          } else {
            announce(job, 'resume', status.offset, failures + 1, lastError);
            session = status.session;
            offset = status.offset;
          }
          job.progress.report(offset, true);
        }
        if (offset >= job.size) {
          await finish(job, session);
          return;
        }
        if (reader === undefined || readerAt !== offset) {
          reader?.close();
          reader = new ChunkReader(job.source.open(offset, job.signal, UPLOAD_READ));
          readerAt = offset;
        }
        const length = Math.min(chunkSize, job.size - offset);
        bodySent = true;
        const response = await job.deps.endpoint.send({
          operation: 'blobs.upload',
          method: 'PATCH',
          url: session.url,
          headers: {
            'content-type': OCTET_STREAM,
            'content-range': `${offset}-${offset + length - 1}`,
          },
          body: countedBody(reader, length, job, offset),
          contentLength: length,
          auth: pushAuth(job.repository),
          // 416: GHCR's answer to a body over its cap (or a chunk at the wrong offset); 413: a
          // proxy's limit on request bodies. Either way a smaller chunk is tried.
          acceptStatus: [413, 416],
          ...signalOf(job),
        });
        readerAt += length;
        if (response.status === 416 || response.status === 413) {
          const text = await readText(response);
          reader.close();
          reader = undefined;
          failures += 1;
          if (failures > maxFailures) {
            throw new UploadError(
              `${job.describe}: the registry refused the chunk at byte ${offset} (${response.status}${text === '' ? '' : `: ${text}`}) ${failures} times; lower chunkSize`,
              { code: GhcrErrorCode.CHUNK_FAILED, offset, digest: job.digest, isRetryable: false },
            );
          }
          const previous = offset;
          const status = await sessionStatus(job, session, offset);
          if (status === undefined) {
            session = await startSession(job);
            offset = 0;
          } else {
            session = status.session;
            offset = status.offset;
          }
          if (offset === previous) {
            // Refused where it should fit: the chunk is too large for this registry.
            chunkSize = Math.max(session.minChunk, Math.floor(chunkSize / 2), 1);
          }
          continue;
        }
        const location = header(response, 'location');
        if (location !== undefined && location !== '') session.url = resolveLocation(location, session.url);
        await discard(response);
        const confirmed = offsetFromRange(header(response, 'range'), offset + length) ?? offset + length;
        offset = Math.min(confirmed, job.size);
        failures = 0;
        job.progress.report(offset);
      } catch (error) {
        reader?.close();
        reader = undefined;
        if (!isResumable(error, job.signal, bodySent) || failures >= maxFailures) {
          await cancelSession(job, session);
          throw finalError(error, job, offset, failures);
        }
        failures += 1;
        lastError = error;
        await waitBeforeResume(job.deps, failures, error, job.signal);
        needStatus = true;
      }
    }
  } finally {
    reader?.close();
  }
}

/** PUT ?digest= with no body: the registry verifies the digest over everything it received. */
async function finish(job: UploadJob, session: UploadSession): Promise<void> {
  const response = await job.deps.endpoint.send({
    operation: 'blobs.upload',
    method: 'PUT',
    url: appendQuery(session.url, 'digest', job.digest),
    headers: { 'content-type': OCTET_STREAM },
    contentLength: 0,
    auth: pushAuth(job.repository),
    ...signalOf(job),
  });
  await discard(response);
  checkDigestHeader(response, job, 'upload');
  job.progress.report(job.size, true);
}

async function readText(response: TransportResponse): Promise<string> {
  try {
    return (await response.body.text()).slice(0, 300).trim();
  } catch {
    return '';
  }
}

/** The error a failed upload ends with: specific registry errors as they are, exhaustion wrapped. */
function finalError(error: unknown, job: UploadJob, offset: number, failures: number): unknown {
  if (GhcrError.isInstance(error) && error.code === 'DIGEST_INVALID') {
    return new UploadError(
      `${job.describe}: the registry computed another digest over the bytes it received, so the source's bytes are not ${job.digest} (a corrupted file, a source that changed while uploading, or one that gives different bytes when reopened at an offset); nothing was stored: check or re-create the source`,
      { code: 'DIGEST_INVALID', cause: error, digest: job.digest, isRetryable: false },
    );
  }
  // Only transient failures that ran out of attempts are wrapped; anything else (a refusal, an
  // abort, an exhausted rate limit) is more useful to the caller as it is.
  const transient =
    !GhcrError.isInstance(error) ||
    ((error.family === 'transport' || error.family === 'server') &&
      error.isRetryable &&
      error.code !== GhcrErrorCode.ABORTED);
  if (!transient) return error;
  return new UploadError(
    `${job.describe} failed at byte ${offset} of ${job.size}${failures > 0 ? ` after ${failures + 1} attempts` : ''}: ${messageOf(error)}`,
    { code: GhcrErrorCode.CHUNK_FAILED, cause: error, offset, digest: job.digest, isRetryable: true },
  );
}
