/**
 * A recording undici Dispatcher: it wraps any dispatcher (an `Agent` talking to the real ghcr.io,
 * the simulation's in-process dispatcher, …), passes every request through untouched, tees request
 * and response bodies as they stream, and writes a redacted cassette on `flush()` and `close()`.
 */

import { dirname, relative, resolve } from 'node:path';
import {
  type Clock,
  ConfigError,
  InternalError,
  PARSE_ONCE,
  systemClock,
  unknownKeysError,
} from '@ghcr/oci-types';
import { Dispatcher } from 'undici';
import * as z from 'zod';
import { BodyCapture, DEFAULT_BODY_THRESHOLD_BYTES } from './body-capture.js';
import {
  blobsDirectoryFor,
  CASSETTE_FORMAT,
  CASSETTE_VERSION,
  type Cassette,
  type CassetteEntry,
  type RecordedError,
  type RecordedResponse,
  writeCassette,
} from './cassette.js';
import { RecordingHandler } from './handler-adapter.js';
import { headerValue, normalizeHeaders, type RecordedHeaders } from './headers.js';
import { type RedactHook, redactHeaders, redactMessage, redactRequestUrl } from './redaction.js';
import { teeRequestBody } from './request-body.js';
import { requestUrl } from './request-url.js';

const dispatcherSchema = z.custom<Dispatcher>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { dispatch?: unknown }).dispatch === 'function',
  { message: 'must be an undici Dispatcher (an Agent, a Pool, the simulation dispatcher, …)' },
);

/**
 * Options of {@link createRecordingDispatcher}, validated once by
 * {@link recordingDispatcherOptionsSchema} (an unknown key or a bad value is a `ConfigError` naming it).
 * @public
 */
export interface RecordingDispatcherOptions {
  /** The dispatcher that really sends the requests. Required. */
  readonly dispatcher: Dispatcher;
  /** Path of the cassette file to write; large bodies go to `blobs/` beside it. Required. */
  readonly cassette: string;
  /** A hook run on every entry after the built-in redaction. If omitted, only the built-in rules apply. */
  readonly redact?: RedactHook | undefined;
  /** Bodies larger than this many bytes are stored by digest in `blobs/`. If omitted, 64 KiB. */
  readonly bodyThresholdBytes?: number | undefined;
  /** Clock for the cassette's `recordedAt`. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
  /** Whether `close()` also closes the wrapped dispatcher. If omitted, true (as undici's wrappers do). */
  readonly closeDispatcher?: boolean | undefined;
}

/**
 * The zod schema of {@link RecordingDispatcherOptions} (each option is documented there). Strict: an
 * unknown key is refused with its name.
 * @public
 */
export const recordingDispatcherOptionsSchema = z
  .object({
    dispatcher: dispatcherSchema,
    cassette: z.string().min(1),
    redact: z
      .custom<RedactHook>((value) => typeof value === 'function', { message: 'must be a function' })
      .optional(),
    bodyThresholdBytes: z.number().int().nonnegative().default(DEFAULT_BODY_THRESHOLD_BYTES),
    clock: z
      .custom<Clock>(
        (value) => typeof value === 'object' && value !== null && typeof (value as Clock).now === 'function',
        { message: 'must be a Clock' },
      )
      .optional(),
    closeDispatcher: z.boolean().default(true),
  })
  .strict() satisfies z.ZodType<unknown, RecordingDispatcherOptions>;

/**
 * {@link RecordingDispatcherOptions} after defaults.
 * @public
 */
export type ResolvedRecordingDispatcherOptions = z.output<typeof recordingDispatcherOptionsSchema>;

interface Slot {
  entry: CassetteEntry | undefined;
  done: Promise<void>;
}

/**
 * A recording dispatcher: an undici `Dispatcher` plus `flush()` (write the cassette so far) and
 * `entries` (what has been recorded, redacted).
 * @public
 */
export class RecordingDispatcher extends Dispatcher {
  readonly #options: ResolvedRecordingDispatcherOptions;
  readonly #cassettePath: string;
  readonly #blobsDirectory: string;
  readonly #blobsPrefix: string;
  readonly #clock: Clock;
  readonly #slots: Slot[] = [];
  readonly #failures: unknown[] = [];
  #closed = false;

  /** @internal Use {@link createRecordingDispatcher}. */
  constructor(options: ResolvedRecordingDispatcherOptions) {
    super();
    this.#options = options;
    this.#cassettePath = resolve(options.cassette);
    this.#blobsDirectory = blobsDirectoryFor(this.#cassettePath);
    this.#blobsPrefix = relative(dirname(this.#cassettePath), this.#blobsDirectory).split('\\').join('/');
    this.#clock = options.clock ?? systemClock;
  }

  /** The entries recorded and finished so far, in dispatch order (already redacted). */
  get entries(): readonly CassetteEntry[] {
    return this.#slots.flatMap((slot) => (slot.entry === undefined ? [] : [slot.entry]));
  }

  /** The cassette file this dispatcher writes. */
  get cassettePath(): string {
    return this.#cassettePath;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const seq = this.#slots.length;
    const slot: Slot = { entry: undefined, done: Promise.resolve() };
    this.#slots.push(slot);

    const rawHeaders = normalizeHeaders(options.headers);
    const method = (options.method ?? 'GET').toUpperCase();
    const url = requestUrl(options);
    const capture = (headers: RecordedHeaders): BodyCapture =>
      new BodyCapture({
        blobsDirectory: this.#blobsDirectory,
        blobsPrefix: this.#blobsPrefix,
        thresholdBytes: this.#options.bodyThresholdBytes,
        contentType: headerValue(headers, 'content-type'),
        contentEncoding: headerValue(headers, 'content-encoding'),
      });
    const requestBody = teeRequestBody(options.body, () => capture(rawHeaders));

    let response: Omit<RecordedResponse, 'body'> | undefined;
    let responseCapture: BodyCapture | undefined;
    let settle: (outcome: { trailers?: RecordedHeaders; error?: Error }) => void = () => {};
    const outcome = new Promise<{ trailers?: RecordedHeaders; error?: Error }>((resolveOutcome) => {
      settle = resolveOutcome;
    });

    const recordingHandler = new RecordingHandler(handler, {
      start: (statusCode, headers, statusMessage) => {
        const normalized = normalizeHeaders(headers);
        response = {
          status: statusCode,
          ...(statusMessage === undefined || statusMessage === '' ? {} : { statusText: statusMessage }),
          headers: normalized,
        };
        responseCapture = capture(normalized);
      },
      data: (chunk, controller) => {
        if (responseCapture === undefined) return;
        const current = responseCapture;
        if (!current.write(chunk)) {
          controller.pauseForRecorder();
          void current.waitForDrain().then(() => controller.resumeForRecorder());
        }
      },
      end: (trailers) => settle({ trailers: normalizeHeaders(trailers) }),
      error: (error) => settle({ error }),
    });

    slot.done = (async () => {
      const result = await outcome;
      try {
        const body = await requestBody.seal();
        const entry: CassetteEntry = {
          seq,
          request: { method, url: redactRequestUrl(url), headers: redactHeaders(rawHeaders), body },
        };
        if (response !== undefined && responseCapture !== undefined) {
          const responseBody = await responseCapture.finish();
          const headers = redactHeaders(response.headers);
          if (responseBody.redacted === true && headers['content-length'] !== undefined) {
            // Redaction changed the body's length; keep the header truthful for the replay.
            headers['content-length'] = String(responseBody.size);
          }
          const trailers = result.trailers === undefined ? {} : redactHeaders(result.trailers);
          entry.response = {
            ...response,
            headers,
            body: responseBody,
            ...(Object.keys(trailers).length > 0 ? { trailers } : {}),
          };
        }
        if (result.error !== undefined)
          entry.error = describeError(result.error, entry.response !== undefined);
        slot.entry = this.#options.redact === undefined ? entry : this.#options.redact(entry);
      } catch (error) {
        await responseCapture?.discard().catch(() => {});
        this.#failures.push(error);
      }
    })();

    try {
      return this.#options.dispatcher.dispatch(
        { ...options, body: requestBody.body } as Dispatcher.DispatchOptions,
        recordingHandler,
      );
    } catch (error) {
      settle({ error: error instanceof Error ? error : new Error(String(error)) });
      throw error;
    }
  }

  /**
   * Writes the cassette with every exchange finished so far (exchanges still in flight are
   * written by a later `flush()` or by `close()`).
   * @throws InternalError when a body or the cassette could not be written.
   */
  async flush(): Promise<void> {
    const cassette: Cassette = {
      format: CASSETTE_FORMAT,
      version: CASSETTE_VERSION,
      recordedAt: new Date(this.#clock.now()).toISOString(),
      entries: [...this.entries],
    };
    try {
      await writeCassette(this.#cassettePath, cassette);
    } catch (error) {
      throw new InternalError(
        `could not write cassette "${this.#cassettePath}": ${(error as Error).message}; check that its directory exists and is writable`,
        { cause: error },
      );
    }
    const failure = this.#failures[0];
    if (failure !== undefined) {
      throw new InternalError(
        `${this.#failures.length} exchange(s) could not be recorded into "${this.#cassettePath}" (first: ${(failure as Error).message}); check free space and permissions of its blobs directory`,
        { cause: failure },
      );
    }
  }

  /** Waits for every exchange in flight to finish, then writes the cassette. */
  async #settle(): Promise<void> {
    for (;;) {
      const count = this.#slots.length;
      await Promise.all(this.#slots.map((slot) => slot.done));
      if (this.#slots.length === count) return;
    }
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const promise = this.#close();
    if (callback === undefined) return promise;
    promise.then(callback, callback);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#options.closeDispatcher) await this.#options.dispatcher.close();
    await this.#settle();
    await this.flush();
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const callback = typeof first === 'function' ? first : second;
    const error = typeof first === 'function' ? null : (first ?? null);
    const promise = (async () => {
      this.#closed = true;
      if (this.#options.closeDispatcher) await this.#options.dispatcher.destroy(error);
      await this.#settle();
      await this.flush();
    })();
    if (callback === undefined) return promise;
    promise.then(callback, callback);
  }
}

function describeError(error: Error, afterResponse: boolean): RecordedError {
  const code = (error as { code?: unknown }).code;
  return {
    phase: afterResponse ? 'response' : 'request',
    name: error.name,
    ...(typeof code === 'string' ? { code } : {}),
    message: redactMessage(error.message),
  };
}

/**
 * Creates a {@link RecordingDispatcher} around `options.dispatcher`. Use it wherever an undici
 * dispatcher is accepted (`undici.request(url, { dispatcher })`, `setGlobalDispatcher`, the
 * transport's `dispatcher` option); call `close()` (or `flush()`) to write the cassette.
 * @throws ConfigError naming the invalid option.
 * @public
 */
export function createRecordingDispatcher(options: RecordingDispatcherOptions): RecordingDispatcher {
  const parsed = recordingDispatcherOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError(
        'createRecordingDispatcher() option',
        recordingDispatcherOptionsSchema,
        issue,
        parsed.error,
      );
    }
    const field = issue === undefined ? 'options' : issue.path.join('.') || 'options';
    throw new ConfigError(
      `invalid createRecordingDispatcher() option "${field}": ${issue?.message ?? 'invalid value'}`,
      { cause: parsed.error, field },
    );
  }
  return new RecordingDispatcher(parsed.data);
}
