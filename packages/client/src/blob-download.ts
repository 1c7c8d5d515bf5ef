import { pipeline, type Readable, Readable as ReadableStream } from 'node:stream';
import {
  createVerifyingStream,
  GhcrError,
  GhcrErrorCode,
  ProtocolError,
  TransportError,
} from '@ghcr/oci-types';
import type { TransportResponse } from '@ghcr/transport';
import { type ClientContext, header, registryUrl, release } from './context.js';
import { ProgressReporter } from './progress.js';
import { isResumable, messageOf, waitBeforeResume } from './resume.js';

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

/**
 * Streams a blob from `offset`, re-requesting with `Range: bytes=<reached>-` after a dropped
 * connection. A 206 must start at the byte asked for; a 200 (the server ignored `Range`) restarts
 * the body from byte 0, and the bytes already handed on are skipped, so nothing is duplicated.
 * @internal
 */
export async function* resumableBlobBytes(
  context: ClientContext,
  target: DownloadTarget,
  progress?: ProgressReporter,
): AsyncGenerator<Uint8Array> {
  const url = registryUrl(context, target.repository, `blobs/${target.digest}`);
  const maxFailures = context.settings.options.maxResumeAttempts;
  let offset = target.offset ?? 0;
  let failures = 0;
  for (;;) {
    if (target.size !== undefined && offset >= target.size && offset > (target.offset ?? 0)) return;
    let response: TransportResponse | undefined;
    try {
      response = await context.transport.send({
        operation: target.operation,
        method: 'GET',
        url,
        headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
        auth: { kind: 'registry', repository: target.repository, actions: ['pull'] },
        acceptStatus: offset > 0 ? [416] : [],
        ...(target.signal === undefined ? {} : { signal: target.signal }),
      });
      if (response.status === 416) {
        // Asked from the end: everything arrived before the connection dropped.
        await response.body.dump();
        return;
      }
      let skip = startOffsetCheck(response, offset, url);
      for await (const chunk of response.body) {
        let piece = chunk;
        if (skip > 0) {
          if (piece.byteLength <= skip) {
            skip -= piece.byteLength;
            continue;
          }
          piece = piece.subarray(skip);
          skip = 0;
        }
        offset += piece.byteLength;
        failures = 0;
        progress?.report(offset);
        yield piece;
      }
      if (skip > 0) {
        throw new ProtocolError(
          `GET "${url}": the registry restarted the blob from byte 0 but sent fewer bytes than had already arrived; fetch it again`,
        );
      }
      progress?.report(offset, true);
      return;
    } catch (error) {
      if (response !== undefined) release(response.body);
      if (!isResumable(error, target.signal) || failures >= maxFailures)
        throw asDownloadError(error, url, offset);
      failures += 1;
      await waitBeforeResume(context, failures, error, target.signal);
    }
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
export function verifiedBlobStream(context: ClientContext, target: DownloadTarget): Readable {
  const progress = new ProgressReporter(context, {
    operation: target.operation,
    registry: context.settings.host,
    repository: target.repository,
    digest: target.digest,
    ...(target.size === undefined ? {} : { bytesTotal: target.size }),
  });
  const source = ReadableStream.from(resumableBlobBytes(context, { ...target, offset: 0 }, progress), {
    objectMode: false,
  });
  const verifier = createVerifyingStream(target.digest, {
    ...(target.size === undefined ? {} : { size: target.size }),
    what: `blob ${target.digest} of ${context.settings.host}/${target.repository}`,
  });
  pipeline(source, verifier, () => {
    // Errors reach the consumer through `verifier`; pipeline destroys both sides on failure.
  });
  return verifier;
}
