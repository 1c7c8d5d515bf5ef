import { pipeline, type Readable, Readable as ReadableStream } from 'node:stream';
import {
  type ContentVerifier,
  createContentVerifier,
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
  /**
   * The consumer holds at most this many chunks at once (`BlobOpenOptions.recycleAfter`): a body
   * read into reused buffers is then copied into a ring of buffers reused in turn, not into a new
   * buffer per read.
   */
  readonly recycleAfter?: number | undefined;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** Bytes a blob stream buffers ahead of its consumer before it pauses the response. */
const STREAM_BUFFER_BYTES = 256 * 1024;

/**
 * Bytes of each buffer of a stream's ring (`recycleAfter`): the stream's high-water mark, so each
 * full chunk pushed fills the stream and the next waits until the consumer took it.
 */
const RING_CHUNK_BYTES = STREAM_BUFFER_BYTES;

/**
 * Whether a ring pays for `target`: the consumer allows one (`recycleAfter`) and the blob is
 * larger than the ring, so its buffers come round. A smaller blob streams as before: a ring for
 * each 1 MiB blob raised the peak RSS of a copy of 64 × 1 MiB to a second registry (110 → 116 MiB)
 * and saved no time (0.98×, 8 pairs).
 */
function ringPays(target: DownloadTarget): target is DownloadTarget & { readonly recycleAfter: number } {
  const { recycleAfter, size, offset = 0 } = target;
  if (recycleAfter === undefined) return false;
  return size === undefined || size - offset > RING_CHUNK_BYTES * (recycleAfter + 2);
}

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
  /** Copies views into the ring, when the consumer allows one (`recycleAfter`). */
  #ring: RingWriter | undefined;
  /** Resolves when the consumer reads again, for a push waiting on a full stream. */
  #onRead: (() => void) | undefined;
  /** The failure of the consumer of the bytes (never resumed), when it failed. */
  #consumerFailure: unknown;
  /** Checks digest and size as bytes come (a stream of `verifiedBlobStream` read through a ring). */
  readonly #verifier: ContentVerifier | undefined;

  constructor(
    deps: ResumeDependencies,
    target: DownloadTarget,
    progress: ProgressReporter | undefined,
    verifier?: ContentVerifier,
  ) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.#deps = deps;
    this.#target = target;
    this.#progress = progress;
    this.#url = registryUrl(deps, target.repository, `blobs/${target.digest}`);
    this.#offset = target.offset ?? 0;
    this.#verifier = verifier;
    if (ringPays(target)) this.#ring = new RingWriter(target.recycleAfter, this.#pushChunk, verifier);
  }

  /** Pushes a chunk of its own; a promise, settled when the consumer reads again, while the stream is full. */
  readonly #pushChunk = (chunk: Uint8Array): Promise<void> | undefined => {
    if (this.push(chunk)) return undefined;
    return new Promise<void>((resolve) => {
      this.#onRead = resolve;
    });
  };

  /** Pushes a copy of a view (a body read into reused buffers, with no ring to copy it into). */
  readonly #pushCopy = (view: Uint8Array): Promise<void> | undefined => this.#pushChunk(Buffer.from(view));

  override _read(): void {
    if (!this.#started) {
      this.#started = true;
      this.#run(undefined).catch((error: unknown) => this.destroy(error as Error));
      return;
    }
    const onRead = this.#onRead;
    this.#onRead = undefined;
    onRead?.();
  }

  /**
   * Reads the blob without the stream: each piece goes to `onView` (resumes included), as a view
   * of a buffer the transport reuses when it read the body into one (`ResponseBody.eachView`),
   * valid until `onView` returns or the promise it returned settled; that promise holds the next
   * piece back. A failure of `onView` is never resumed. Resolves at the blob's end; rejects if the
   * stream is destroyed before, or, for a verified stream, when the digest or size is wrong: before
   * the view that ends the blob is handed on when the size is known, else after the last view.
   * Call it instead of reading the stream, never both.
   */
  eachView(onView: ViewConsumer): Promise<void> {
    if (this.#started) {
      return Promise.reject(new Error('the blob stream is already being read; eachView must come first'));
    }
    this.#started = true;
    // Views go straight to `onView`, not through the ring; a verified stream still verifies them,
    // and, when the size is known, checks digest and size before it hands on the view that ends
    // the blob: a consumer (an upload to another registry) never gets the last byte of bad content.
    const verifier = this.#verifier;
    const size = this.#target.size;
    let verified = false;
    this.#ring = undefined;
    const sink: ViewConsumer =
      verifier === undefined
        ? onView
        : (view) => {
            verifier.update(view);
            if (this.#offset === size) {
              verifier.finish();
              verified = true;
            }
            return onView(view);
          };
    // The promise carries the failure; destroying the stream must not also throw it as 'error'.
    this.on('error', () => {});
    return this.#run(sink).then(
      (complete) => {
        if (!complete) {
          throw new TransportError(`GET "${this.#url}": the blob stream was closed before the blob ended`, {
            code: GhcrErrorCode.ABORTED,
            isRetryable: false,
          });
        }
        if (!verified) verifier?.finish();
        this.push(null);
        this.resume();
      },
      (error: unknown) => {
        this.destroy(error as Error);
        throw error;
      },
    );
  }

  /** Ends the stream: what the ring still holds first. */
  async #end(): Promise<void> {
    await this.#ring?.flush();
    this.push(null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A ring waiting for the consumer waits no more.
    const onRead = this.#onRead;
    this.#onRead = undefined;
    onRead?.();
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
        if (sink === undefined) await this.#end();
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
          ...definedProps({ signal: target.signal }),
        });
        if (this.destroyed) {
          release(response.body);
          return false;
        }
        if (response.status === 416) {
          // Asked from the end: everything arrived before the connection dropped.
          await response.body.dump();
          if (sink === undefined) await this.#end();
          return true;
        }
        const skip = startOffsetCheck(response, reached, url);
        const onBytes = (): void => {
          failures = 0;
        };
        const forward =
          sink ??
          this.#ring?.write ??
          (response.body.eachView === undefined ? this.#pushChunk : this.#pushCopy);
        await this.#forward(response.body, skip, onBytes, forward);
        if (this.destroyed) return false;
        this.#progress?.report(this.#offset, true);
        if (sink === undefined) await this.#end();
        return true;
      } catch (error) {
        this.#body = undefined;
        if (response !== undefined) release(response.body);
        if (this.destroyed) return false;
        // The consumer's own failure (a write, a digest check): nothing to fetch again.
        if (error === this.#consumerFailure) throw error;
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
   * Resolves at its end. A failure of `sink` is kept as the consumer's (never resumed).
   */
  #forward(
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
      const consumerFailed = (error: unknown): never => {
        this.#consumerFailure = error;
        throw error;
      };
      try {
        return sink(piece)?.catch(consumerFailed);
      } catch (error) {
        return consumerFailed(error);
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
}

/**
 * Copies views into a ring of `recycleAfter` + 2 buffers used in turn and hands each full one on
 * (`emit`, which returns a promise while the consumer is not ready for more). A buffer is filled
 * again only after `recycleAfter` + 1 later ones were handed on and the consumer took the last of
 * them, so one the consumer may still hold is never overwritten. A full buffer is handed on only
 * once more bytes come, so the last one waits for `flush()`, which first finishes the `verifier`
 * when there is one (every view is fed to it first): a consumer never gets the last byte of
 * content whose digest or size turns out wrong. What is not yet handed on stays across a resumed
 * GET.
 */
class RingWriter {
  readonly #buffers: Buffer[] = [];
  readonly #size: number;
  readonly #emit: (chunk: Buffer) => Promise<void> | undefined;
  readonly #verifier: ContentVerifier | undefined;
  #turn = 0;
  #fill = 0;

  constructor(
    recycleAfter: number,
    emit: (chunk: Buffer) => Promise<void> | undefined,
    verifier: ContentVerifier | undefined,
  ) {
    this.#size = recycleAfter + 2;
    this.#emit = emit;
    this.#verifier = verifier;
  }

  /** Takes `view`; a promise while a full buffer waits for the consumer (the view stays valid). */
  readonly write = (view: Uint8Array): Promise<void> | undefined => {
    this.#verifier?.update(view);
    return this.#place(view);
  };

  /** Verifies what came (when there is a verifier), then hands on what the ring still holds. */
  async flush(): Promise<void> {
    this.#verifier?.finish();
    if (this.#fill > 0) await this.#handOn();
  }

  #place(view: Uint8Array): Promise<void> | undefined {
    let at = 0;
    while (at < view.byteLength) {
      if (this.#fill === RING_CHUNK_BYTES) {
        const waiting = this.#handOn();
        if (waiting !== undefined) {
          const rest = view.subarray(at);
          return waiting.then(() => this.#place(rest));
        }
      }
      const index = this.#turn % this.#size;
      this.#buffers[index] ??= Buffer.allocUnsafeSlow(RING_CHUNK_BYTES);
      const taken = Math.min(RING_CHUNK_BYTES - this.#fill, view.byteLength - at);
      (this.#buffers[index] as Buffer).set(view.subarray(at, at + taken), this.#fill);
      this.#fill += taken;
      at += taken;
    }
    return undefined;
  }

  #handOn(): Promise<void> | undefined {
    const buffer = this.#buffers[this.#turn % this.#size] as Buffer;
    const chunk = buffer.subarray(0, this.#fill);
    this.#turn += 1;
    this.#fill = 0;
    return this.#emit(chunk);
  }
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
  const checks = {
    ...definedProps({ size: target.size }),
    what: `blob ${target.digest} of ${deps.endpoint.host}/${target.repository}`,
  };
  if (ringPays(target)) {
    // The ring verifies as it copies, and holds the last chunk back until the digest matched.
    const verifier = createContentVerifier(target.digest, checks);
    return new ResumableBlobStream(deps, { ...target, offset: 0 }, progress, verifier);
  }
  const source = resumableBlobStream(deps, { ...target, offset: 0 }, progress);
  const verifier = createVerifyingStream(target.digest, checks);
  pipeline(source, verifier, () => {
    // Errors reach the consumer through `verifier`; pipeline destroys both sides on failure.
  });
  return verifier;
}
