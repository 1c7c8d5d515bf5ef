/**
 * A replaying undici Dispatcher: it answers requests from a cassette, offline, streaming large
 * bodies from the cassette's `blobs/` directory with back-pressure. A request that matches no
 * recorded exchange fails with {@link SimulationMismatchError} naming the closest recorded one.
 *
 * Matching: method + redacted URL, plus the digest of the (redacted) request body for PUT, POST
 * and PATCH when the cassette recorded one. `unordered` (the default) serves the earliest unused
 * matching entry, so repeated identical requests get their responses in recorded order;
 * `ordered` requires requests to arrive exactly in recorded order.
 */

import { createReadStream } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  ConfigError,
  createDigester,
  DigestMismatchError,
  type ErrorCode,
  GhcrError,
  GhcrErrorCode,
  isErrorCode,
  PARSE_ONCE,
  SimulationMismatchError,
  TransportError,
  unknownKeysError,
} from '@ghcr/oci-types';
import { Dispatcher } from 'undici';
import * as z from 'zod';
import { PausableController } from '../dispatch/pausable-controller.js';
import { BodyCapture, DEFAULT_BODY_THRESHOLD_BYTES } from './body-capture.js';
import {
  type Cassette,
  type CassetteEntry,
  cassetteSchema,
  type RecordedBody,
  readCassette,
} from './cassette.js';
import { toControllerHandler } from './handler-adapter.js';
import { headerValue, normalizeHeaders } from './headers.js';
import { type RedactHook, redactHeaders, redactRequestUrl } from './redaction.js';
import { chunkBytes } from './request-body.js';
import { requestUrl } from './request-url.js';
import { requestSimilarity } from './similarity.js';

/** Methods whose body takes part in matching. */
const BODY_MATCHED_METHODS = new Set(['PUT', 'POST', 'PATCH']);
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Options of {@link createReplayDispatcher}, validated once by {@link replayDispatcherOptionsSchema}
 * (an unknown key or a bad value is a `ConfigError` naming it).
 * @public
 */
export interface ReplayDispatcherOptions {
  /** A cassette file path, or a cassette already loaded (see `readCassette`). Required. */
  readonly cassette: string | Cassette;
  /** `'unordered'` or `'ordered'` matching (see the module docs). If omitted, `'unordered'`. */
  readonly mode?: 'ordered' | 'unordered' | undefined;
  /** When every matching entry was used, serve the last one again instead of failing. If omitted, false. */
  readonly allowRepeats?: boolean | undefined;
  /** The same hook given to the recorder, run on each live request. If omitted, none. */
  readonly redact?: RedactHook | undefined;
  /**
   * Directory the cassette's `blob` paths are relative to. If omitted, the cassette file's
   * directory (the current directory when a loaded cassette is given).
   */
  readonly baseDirectory?: string | undefined;
}

/**
 * The zod schema of {@link ReplayDispatcherOptions} (each option is documented there). Strict: an
 * unknown key is refused with its name.
 * @public
 */
export const replayDispatcherOptionsSchema = z
  .object({
    cassette: z.union([z.string().min(1), cassetteSchema]),
    mode: z.enum(['ordered', 'unordered']).default('unordered'),
    allowRepeats: z.boolean().default(false),
    redact: z
      .custom<RedactHook>((value) => typeof value === 'function', { message: 'must be a function' })
      .optional(),
    baseDirectory: z.string().min(1).optional(),
  })
  .strict() satisfies z.ZodType<unknown, ReplayDispatcherOptions>;

/**
 * {@link ReplayDispatcherOptions} after defaults.
 * @public
 */
export type ResolvedReplayDispatcherOptions = z.output<typeof replayDispatcherOptionsSchema>;

interface LiveRequest {
  readonly method: string;
  readonly url: string;
  readonly body: RecordedBody | null;
}

function describe(request: { readonly method: string; readonly url: string }): string {
  return `${request.method} ${request.url}`;
}

/**
 * A replay dispatcher: an undici `Dispatcher` serving a cassette, plus `remaining` (entries not
 * replayed yet), useful to assert that a test made every recorded request.
 * @public
 */
export class ReplayDispatcher extends Dispatcher {
  readonly #options: ResolvedReplayDispatcherOptions;
  readonly #cassette: Cassette;
  readonly #source: string;
  readonly #baseDirectory: string;
  readonly #used: boolean[];
  #next = 0;

  /** @internal Use {@link createReplayDispatcher}. */
  constructor(
    options: ResolvedReplayDispatcherOptions,
    cassette: Cassette,
    source: string,
    baseDirectory: string,
  ) {
    super();
    this.#options = options;
    this.#cassette = cassette;
    this.#source = source;
    this.#baseDirectory = baseDirectory;
    this.#used = cassette.entries.map(() => false);
  }

  /** The entries not replayed yet, in recorded order. */
  get remaining(): readonly CassetteEntry[] {
    return this.#cassette.entries.filter((_, index) => this.#used[index] !== true);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const target = toControllerHandler(handler);
    let finished = false;
    const fail = (error: Error): void => {
      if (finished) return;
      finished = true;
      target.onResponseError?.(controller, error);
    };
    const controller = new PausableController((reason) => queueMicrotask(() => fail(reason)));
    const run = async (): Promise<void> => {
      // undici calls handlers asynchronously after dispatch() returns; so do we.
      await Promise.resolve();
      target.onRequestStart?.(controller, {});
      if (controller.aborted) return;
      const live = await this.#describeLive(options);
      if (controller.aborted) return;
      const entry = this.#take(live);
      const response = entry.response;
      if (response === undefined) {
        const recorded = entry.error;
        throw new TransportError(
          `replayed failure of ${describe(live)}: ${recorded?.name ?? 'Error'}: ${recorded?.message ?? 'no response was recorded'}`,
          { code: replayedCode(recorded?.code) },
        );
      }
      target.onResponseStart?.(
        controller,
        response.status,
        response.headers as IncomingHttpHeaders,
        response.statusText ?? '',
      );
      if (options.method?.toUpperCase() !== 'HEAD') await this.#streamBody(response.body, controller, target);
      if (controller.aborted || finished) return;
      if (entry.error !== undefined) {
        throw new TransportError(
          `replayed failure while reading the response body of ${describe(live)}: ${entry.error.name}: ${entry.error.message}`,
          { code: replayedCode(entry.error.code) },
        );
      }
      finished = true;
      target.onResponseEnd?.(controller, (response.trailers ?? {}) as IncomingHttpHeaders);
    };
    run().catch((error: unknown) => {
      fail(error instanceof Error ? error : new Error(String(error)));
    });
    return true;
  }

  async #describeLive(options: Dispatcher.DispatchOptions): Promise<LiveRequest> {
    const method = (options.method ?? 'GET').toUpperCase();
    const headers = normalizeHeaders(options.headers);
    let body: RecordedBody | null = null;
    if (options.body !== undefined && options.body !== null) {
      const capture = new BodyCapture({
        thresholdBytes: DEFAULT_BODY_THRESHOLD_BYTES,
        contentType: headerValue(headers, 'content-type'),
        contentEncoding: headerValue(headers, 'content-encoding'),
      });
      const source = options.body as unknown;
      if (typeof source === 'string' || source instanceof Uint8Array) {
        capture.write(chunkBytes(source));
      } else if (typeof source === 'object' && source !== null && Symbol.asyncIterator in source) {
        for await (const chunk of source as AsyncIterable<unknown>) capture.write(chunkBytes(chunk));
      }
      body = await capture.finish();
    }
    let request: LiveRequest = { method, url: redactRequestUrl(requestUrl(options)), body };
    if (this.#options.redact !== undefined) {
      const redacted = this.#options.redact({
        seq: 0,
        request: { method, url: request.url, headers: redactHeaders(headers), body },
      });
      request = { method: redacted.request.method, url: redacted.request.url, body };
    }
    return request;
  }

  #matches(entry: CassetteEntry, live: LiveRequest): boolean {
    const recorded = entry.request;
    if (recorded.method !== live.method || recorded.url !== live.url) return false;
    if (!BODY_MATCHED_METHODS.has(live.method) || recorded.body === null) return true;
    return live.body !== null && live.body.digest === recorded.body.digest;
  }

  #take(live: LiveRequest): CassetteEntry {
    const entries = this.#cassette.entries;
    if (this.#options.mode === 'ordered') {
      const expected = entries[this.#next];
      if (expected !== undefined && this.#matches(expected, live)) {
        this.#used[this.#next] = true;
        this.#next += 1;
        return expected;
      }
      throw this.#mismatch(live, expected);
    }
    let repeat: number | undefined;
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index];
      if (entry === undefined || !this.#matches(entry, live)) continue;
      if (this.#used[index] !== true) {
        this.#used[index] = true;
        return entry;
      }
      repeat = index;
    }
    if (repeat !== undefined && this.#options.allowRepeats) {
      const entry = entries[repeat];
      if (entry !== undefined) return entry;
    }
    throw this.#mismatch(live, undefined);
  }

  #mismatch(live: LiveRequest, expected: CassetteEntry | undefined): SimulationMismatchError {
    let best: { entry: CassetteEntry; score: number; used: boolean } | undefined;
    this.#cassette.entries.forEach((entry, index) => {
      const used = this.#used[index] === true;
      // Unused entries win ties; among equals, the earliest.
      const score = requestSimilarity(entry.request, live) + (used ? 0 : 1e-6);
      if (best === undefined || score > best.score) best = { entry, score, used };
    });
    const bodyNote =
      live.body !== null && BODY_MATCHED_METHODS.has(live.method)
        ? ` (body ${live.body.digest}, ${live.body.size} bytes)`
        : '';
    const parts = [`no recorded exchange in cassette ${this.#source} matches ${describe(live)}${bodyNote}`];
    if (expected !== undefined)
      parts.push(`ordered replay expected entry #${expected.seq}: ${describe(expected.request)}`);
    else if (this.#options.mode === 'ordered') parts.push('every recorded entry has been replayed');
    let closest: string | undefined;
    if (best !== undefined) {
      const entry: CassetteEntry = best.entry;
      closest = describe(entry.request);
      const bodyDiffers =
        entry.request.method === live.method &&
        entry.request.url === live.url &&
        entry.request.body !== null &&
        live.body?.digest !== entry.request.body.digest;
      const notes = [
        best.used ? 'already replayed' : '',
        bodyDiffers ? `recorded body ${entry.request.body?.digest}` : '',
      ]
        .filter((note) => note !== '')
        .join(', ');
      parts.push(
        `closest recorded request: entry #${entry.seq} ${closest}${notes === '' ? '' : ` (${notes})`}`,
      );
    } else {
      parts.push('the cassette holds no entries');
    }
    parts.push('re-record the cassette if the requests changed');
    return new SimulationMismatchError(`${parts.join('; ')}`, closest === undefined ? {} : { closest });
  }

  async #streamBody(
    body: RecordedBody,
    controller: PausableController,
    target: Dispatcher.DispatchHandler,
  ): Promise<void> {
    if ('data' in body) {
      if (body.size === 0) return;
      const bytes = Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8');
      if (!controller.aborted) target.onResponseData?.(controller, bytes);
      return;
    }
    const path = resolve(this.#baseDirectory, body.blob);
    const inside = relative(this.#baseDirectory, path);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new ConfigError(
        `cassette ${this.#source} names a body file outside its directory ("${body.blob}"); re-record it`,
        { field: 'cassette' },
      );
    }
    const digester = createDigester('sha256');
    const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (controller.aborted) return;
        digester.update(chunk);
        target.onResponseData?.(controller, chunk);
        if (controller.paused) await controller.waitWhilePaused();
      }
    } catch (error) {
      if (GhcrError.isInstance(error)) throw error;
      throw new ConfigError(
        `cannot read body file "${body.blob}" of cassette ${this.#source}: ${(error as Error).message}; the blobs directory must stay beside the cassette`,
        { cause: error, field: 'cassette' },
      );
    } finally {
      stream.destroy();
    }
    const digest = digester.digest();
    if (digest !== body.digest || digester.size !== body.size) {
      throw new DigestMismatchError(
        `body file "${body.blob}" of cassette ${this.#source} has digest ${digest} (${digester.size} bytes), expected ${body.digest} (${body.size} bytes); the file was changed, re-record the cassette`,
        { expected: body.digest, actual: digest },
      );
    }
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback === undefined) return Promise.resolve();
    queueMicrotask(callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const callback = typeof first === 'function' ? first : second;
    if (callback === undefined) return Promise.resolve();
    queueMicrotask(callback);
  }
}

/**
 * Creates a {@link ReplayDispatcher} serving `options.cassette` offline.
 * @throws ConfigError when an option is invalid or the cassette cannot be read.
 * @public
 */
export function createReplayDispatcher(options: ReplayDispatcherOptions): ReplayDispatcher {
  const parsed = replayDispatcherOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError(
        'createReplayDispatcher() option',
        replayDispatcherOptionsSchema,
        issue,
        parsed.error,
      );
    }
    const field = issue === undefined ? 'options' : issue.path.join('.') || 'options';
    throw new ConfigError(
      `invalid createReplayDispatcher() option "${field}": ${issue?.message ?? 'invalid value'}`,
      {
        cause: parsed.error,
        field,
      },
    );
  }
  const resolved = parsed.data;
  if (typeof resolved.cassette === 'string') {
    const path = resolve(resolved.cassette);
    return new ReplayDispatcher(
      resolved,
      readCassette(path),
      `"${path}"`,
      resolve(resolved.baseDirectory ?? dirname(path)),
    );
  }
  return new ReplayDispatcher(
    resolved,
    resolved.cassette,
    '(in memory)',
    resolve(resolved.baseDirectory ?? '.'),
  );
}

/**
 * The code of a replayed failure: the recorded one when it is a {@link ErrorCode} (a GhcrError was
 * recorded); otherwise (undici's `UND_ERR_SOCKET`, Node's `ECONNRESET`, none) a connection
 * failure, which is what the transport makes of those codes.
 */
function replayedCode(recorded: string | undefined): ErrorCode {
  return isErrorCode(recorded) ? recorded : GhcrErrorCode.CONNECTION_FAILED;
}
