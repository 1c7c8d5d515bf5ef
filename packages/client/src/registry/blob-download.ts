import { finished, pipeline, type Readable, Readable as ReadableStream } from 'node:stream';
import {
  createVerifyingStream,
  definedProps,
  GhcrError,
  GhcrErrorCode,
  ProtocolError,
  TransportError,
} from '@ghcr/oci-types';
import type { TransportResponse, ViewConsumer } from '@ghcr/transport';
import { ProgressReporter } from '../progress.js';
import type { DownloadLimits, RegistryDependencies, ResumeLimits } from './dependencies.js';
import { eachChunk } from './each-chunk.js';
import { header, release } from './responses.js';
import { isResumable, messageOf, waitBeforeResume } from './resume.js';
import { registryUrl } from './urls.js';

/** @internal */
export interface DownloadTarget {
  readonly repository: string;
  readonly digest: string;
  /** The size the blob must have, when known (a descriptor's). */
  readonly size?: number;
  /** Start at this byte instead of 0 (a resumable source). Verification needs 0. */
  readonly offset?: number;
  readonly signal?: AbortSignal | undefined;
  /** Names the operation for metrics and progress. */
  readonly operation: string;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** Bytes a blob stream buffers ahead of its consumer before it pauses the response. */
const STREAM_BUFFER_BYTES = 256 * 1024;

/** What a resumable download reads: the endpoint, and how to resume (it emits no event itself). */
type ResumeDependencies = Pick<RegistryDependencies<ResumeLimits>, 'endpoint' | 'limits'>;

/**
 * Streams a blob from `offset`, re-requesting with `Range: bytes=<reached>-` after a dropped
 * connection. A 206 must start at the byte asked for; a 200 (the server ignored `Range`) restarts
 * the body from byte 0, and the bytes already handed on are skipped, so nothing is duplicated.
 *
 * The response body's chunks are pushed on as they arrive (the body paused while this stream is
 * full), with no async iteration in between: a 256 MiB blob comes in ~4,000 socket reads, and each
 * layer of promises per chunk cost CPU (docs/benchmarks.md, "Pull: one stream layer per chunk").
 * @internal
 */
export function resumableBlobStream(
  deps: ResumeDependencies,
  target: DownloadTarget,
  progress?: ProgressReporter,
): Readable {
  return new ResumableBlobStream(deps, target, progress);
}

class ResumableBlobStream extends ReadableStream {
  readonly #deps: ResumeDependencies;
  readonly #target: DownloadTarget;
  readonly #progress: ProgressReporter | undefined;
  readonly #url: string;
  #offset: number;
  #body: TransportResponse['body'] | undefined;
  #started = false;

  constructor(deps: ResumeDependencies, target: DownloadTarget, progress: ProgressReporter | undefined) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.#deps = deps;
    this.#target = target;
    this.#progress = progress;
    this.#url = registryUrl(deps, target.repository, `blobs/${target.digest}`);
    this.#offset = target.offset ?? 0;
  }

  override _read(): void {
    if (!this.#started) {
      this.#started = true;
      this.#run(undefined).catch((error: unknown) => this.destroy(error as Error));
      return;
    }
    resumeBody(this.#body);
  }

  /**
   * Reads the blob without the stream: each piece goes to `onView` (resumes included), as a view
   * of a buffer the transport reuses when it read the body into one (`ResponseBody.eachView`),
   * valid until `onView` returns or the promise it returned settled; that promise holds the next
   * piece back. A failure of `onView` is never resumed. Resolves at the blob's end; rejects if the
   * stream is destroyed before. Call it instead of reading the stream, never both.
   */
  eachView(onView: ViewConsumer): Promise<void> {
    if (this.#started) {
      return Promise.reject(new Error('the blob stream is already being read; eachView must come first'));
    }
    this.#started = true;
    // The promise carries the failure; destroying the stream must not also throw it as 'error'.
    this.on('error', () => {});
    return this.#run(onView).then(
      (complete) => {
        if (!complete) {
          throw new TransportError(`GET "${this.#url}": the blob stream was closed before the blob ended`, {
            code: GhcrErrorCode.ABORTED,
            isRetryable: false,
          });
        }
        this.push(null);
        this.resume();
      },
      (error: unknown) => {
        this.destroy(error as Error);
        throw error;
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const body = this.#body;
    this.#body = undefined;
    if (body !== undefined) release(body);
    callback(error);
  }

  /** Fetches the blob (resuming after drops) into the stream, or into `sink` when given. */
  async #run(sink: ViewConsumer | undefined): Promise<boolean> {
    const deps = this.#deps;
    const url = this.#url;
    const target = this.#target;
    const maxFailures = deps.limits.maxResumeAttempts;
    const first = target.offset ?? 0;
    let failures = 0;
    for (;;) {
      if (this.destroyed) return false;
      if (target.size !== undefined && this.#offset >= target.size && this.#offset > first) {
        if (sink === undefined) this.push(null);
        return true;
      }
      let response: TransportResponse | undefined;
      const reached = this.#offset;
      try {
        response = await deps.endpoint.send({
          operation: target.operation,
          method: 'GET',
          url,
          headers: reached > 0 ? { range: `bytes=${reached}-` } : {},
          auth: { kind: 'registry', repository: target.repository, actions: ['pull'] },
          acceptStatus: reached > 0 ? [416] : [],
          largeBody: true,
          ...definedProps({ signal: target.signal }),
        });
        if (this.destroyed) {
          release(response.body);
          return false;
        }
        if (response.status === 416) {
          // Asked from the end: everything arrived before the connection dropped.
          await response.body.dump();
          if (sink === undefined) this.push(null);
          return true;
        }
        const skip = startOffsetCheck(response, reached, url);
        const onBytes = (): void => {
          failures = 0;
        };
        if (sink === undefined) await this.#forward(response.body, skip, onBytes);
        else await this.#forwardViews(response.body, skip, onBytes, sink);
        if (this.destroyed) return false;
        this.#progress?.report(this.#offset, true);
        if (sink === undefined) this.push(null);
        return true;
      } catch (error) {
        this.#body = undefined;
        if (response !== undefined) release(response.body);
        if (this.destroyed) return false;
        // The consumer's own failure (a write, a digest check): nothing to fetch again.
        if (sinkFailures.has(error as object)) throw error;
        if (!isResumable(error, target.signal) || failures >= maxFailures)
          throw asDownloadError(error, url, this.#offset);
        failures += 1;
        await waitBeforeResume(deps, failures, error, target.signal);
      }
    }
  }

  /**
   * Hands the body's bytes to `sink` (after dropping the first `skip`): as views when the body
   * has `eachView`, else its chunks (the body paused while a promise of `sink` is pending).
   * Resolves at its end.
   */
  #forwardViews(
    body: TransportResponse['body'],
    skip: number,
    onBytes: () => void,
    sink: ViewConsumer,
  ): Promise<void> {
    let remaining = skip;
    const take: ViewConsumer = (view) => {
      let piece = view;
      if (remaining > 0) {
        if (piece.byteLength <= remaining) {
          remaining -= piece.byteLength;
          return undefined;
        }
        piece = piece.subarray(remaining);
        remaining = 0;
      }
      if (piece.byteLength === 0) return undefined;
      this.#offset += piece.byteLength;
      onBytes();
      this.#progress?.report(this.#offset);
      try {
        return sink(piece)?.catch(markSinkFailure);
      } catch (error) {
        return markSinkFailure(error);
      }
    };
    const ended = (): void => {
      if (remaining > 0) throw this.#shortRestart();
    };
    this.#body = body;
    const forwarded =
      body.eachView !== undefined ? body.eachView(take).then(ended) : eachChunk(body, take).then(ended);
    return forwarded.finally(() => {
      if (this.#body === body) this.#body = undefined;
    });
  }

  #shortRestart(): ProtocolError {
    return new ProtocolError(
      `GET "${this.#url}": the registry restarted the blob from byte 0 but sent fewer bytes than had already arrived; fetch it again`,
    );
  }

  /** Pushes the body's bytes on (after dropping the first `skip`); resolves at its end. */
  #forward(body: TransportResponse['body'], skip: number, onBytes: () => void): Promise<void> {
    let remaining = skip;
    return new Promise<void>((resolve, reject) => {
      this.#body = body;
      body.on('data', (chunk: unknown) => {
        let piece = chunk as Buffer;
        if (remaining > 0) {
          if (piece.byteLength <= remaining) {
            remaining -= piece.byteLength;
            return;
          }
          piece = piece.subarray(remaining);
          remaining = 0;
        }
        if (piece.byteLength === 0) return;
        this.#offset += piece.byteLength;
        onBytes();
        this.#progress?.report(this.#offset);
        if (!this.push(piece)) pauseBody(body);
      });
      finished(body as unknown as Readable, { writable: false }, (error) => {
        if (this.#body === body) this.#body = undefined;
        if (error !== undefined && error !== null) {
          reject(error);
          return;
        }
        if (remaining > 0) {
          reject(this.#shortRestart());
          return;
        }
        resolve();
      });
    });
  }
}

/** Failures of a view consumer (not of the download): never resumed. */
const sinkFailures = new WeakSet<object>();

/** Marks `error` as the consumer's and rejects with it. */
function markSinkFailure(error: unknown): never {
  if (typeof error === 'object' && error !== null) sinkFailures.add(error);
  throw error;
}

/** Pauses a response body that can be paused (undici's is a Readable). */
function pauseBody(body: TransportResponse['body'] | undefined): void {
  if (body instanceof ReadableStream) body.pause();
}

function resumeBody(body: TransportResponse['body'] | undefined): void {
  if (body instanceof ReadableStream && body.isPaused()) body.resume();
}

/** Bytes of the body to drop: 0 for a fitting 206 or a first request, `offset` for a 200 after a drop. */
function startOffsetCheck(response: TransportResponse, offset: number, url: string): number {
  if (offset === 0) return 0;
  if (response.status === 206) {
    const match = CONTENT_RANGE.exec(header(response, 'content-range') ?? '');
    if (match !== null && Number(match[1]) !== offset) {
      throw new ProtocolError(
        `GET "${url}": asked for bytes from ${offset} but the registry sent a range starting at ${match[1]}; fetch the blob again`,
      );
    }
    return 0;
  }
  return offset;
}

function asDownloadError(error: unknown, url: string, offset: number): unknown {
  if (GhcrError.isInstance(error)) return error;
  return new TransportError(
    `GET "${url}": the connection failed after ${offset} bytes of the blob: ${messageOf(error)}`,
    { code: GhcrErrorCode.CONNECTION_FAILED, cause: error, isRetryable: true },
  );
}

/**
 * A verified stream of a whole blob: digest and size are checked while bytes flow, and the last
 * chunk is held back until they match, so a consumer never gets the final byte of bad content.
 * @internal
 */
export function verifiedBlobStream(
  deps: RegistryDependencies<DownloadLimits>,
  target: DownloadTarget,
): Readable {
  const progress = new ProgressReporter(deps, {
    operation: target.operation,
    registry: deps.endpoint.host,
    repository: target.repository,
    digest: target.digest,
    ...definedProps({ bytesTotal: target.size }),
  });
  const source = resumableBlobStream(deps, { ...target, offset: 0 }, progress);
  const verifier = createVerifyingStream(target.digest, {
    ...definedProps({ size: target.size }),
    what: `blob ${target.digest} of ${deps.endpoint.host}/${target.repository}`,
  });
  pipeline(source, verifier, () => {
    // Errors reach the consumer through `verifier`; pipeline destroys both sides on failure.
  });
  return verifier;
}
