/**
 * undici has two dispatch-handler styles: the legacy callbacks (`onConnect`, `onHeaders`,
 * `onData`, `onComplete`, `onError`) that `undici.request` passes, and the controller API
 * (`onRequestStart`, `onResponseStart`, `onResponseData`, `onResponseEnd`, `onResponseError`)
 * that interceptors pass. The recorder and the replayer speak the controller API internally;
 * these adapters turn a legacy handler into a controller one, and give a handler that receives
 * legacy calls a controller to hand on.
 */

import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Dispatcher, util } from 'undici';

type DispatchController = Dispatcher.DispatchController;
type DispatchHandler = Dispatcher.DispatchHandler;

function toRawValue(value: string | string[] | undefined): Buffer | Buffer[] {
  if (Array.isArray(value)) return value.map((item) => Buffer.from(item, 'latin1'));
  return Buffer.from(value ?? '', 'latin1');
}

function toRaw(headers: IncomingHttpHeaders): Buffer[] {
  const raw: (Buffer | Buffer[])[] = [];
  for (const [name, value] of Object.entries(headers)) {
    raw.push(Buffer.from(name, 'latin1'), toRawValue(value));
  }
  // undici's legacy callbacks accept nested arrays for repeated headers.
  return raw as Buffer[];
}

/**
 * Returns `handler` when it already speaks the controller API, else an adapter that translates
 * controller calls into its legacy callbacks (as undici's own `WrapHandler` does).
 * @internal
 */
export function toControllerHandler(handler: DispatchHandler): DispatchHandler {
  if (typeof handler.onRequestStart === 'function') return handler;
  return {
    onRequestStart(controller, context) {
      // undici passes the dispatch context as a second argument its typings omit.
      const onConnect = handler.onConnect as
        | ((abort: (reason?: Error) => void, context: unknown) => void)
        | undefined;
      onConnect?.call(handler, (reason?: Error) => controller.abort(reason ?? new Error('aborted')), context);
    },
    onRequestUpgrade(_controller, statusCode, headers, socket) {
      handler.onUpgrade?.(statusCode, toRaw(headers), socket);
    },
    onResponseStart(controller, statusCode, headers, statusMessage) {
      const resume = (): void => controller.resume();
      if (handler.onHeaders?.(statusCode, toRaw(headers), resume, statusMessage ?? '') === false) {
        controller.pause();
      }
    },
    onResponseData(controller, chunk) {
      if (handler.onData?.(chunk) === false) controller.pause();
    },
    onResponseEnd(_controller, trailers) {
      handler.onComplete?.(toRaw(trailers) as unknown as string[]);
    },
    onResponseError(_controller, error) {
      if (typeof handler.onError !== 'function') throw error;
      handler.onError(error);
    },
  };
}

/**
 * A controller for a handler that is driven through legacy callbacks: `abort` comes from
 * `onConnect`, `resume` from `onHeaders`, and `paused` is reported back as the `false` return
 * value of `onHeaders`/`onData`.
 * @internal
 */
export class LegacyController implements DispatchController {
  #abort: (reason?: Error) => void;
  #resume: (() => void) | undefined;
  #paused = false;
  #aborted = false;
  #reason: Error | null = null;
  rawHeaders: Buffer[] | null = null;
  rawTrailers: Buffer[] | null = null;

  constructor(abort: (reason?: Error) => void = () => {}) {
    this.#abort = abort;
  }

  setResume(resume: () => void): void {
    this.#resume = resume;
  }

  get aborted(): boolean {
    return this.#aborted;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get reason(): Error | null {
    return this.#reason;
  }
  abort(reason: Error): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#abort(reason);
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }
}

/**
 * A controller handed to the user's handler that merges two reasons to pause the underlying
 * stream: the user's own back-pressure and the recorder's (the disk is behind).
 * @internal
 */
export class GatedController implements DispatchController {
  readonly #inner: DispatchController;
  #userPaused = false;
  #recorderPaused = false;

  constructor(inner: DispatchController) {
    this.#inner = inner;
  }

  get inner(): DispatchController {
    return this.#inner;
  }
  get aborted(): boolean {
    return this.#inner.aborted;
  }
  get paused(): boolean {
    return this.#userPaused;
  }
  get reason(): Error | null {
    return this.#inner.reason;
  }
  get rawHeaders(): Buffer[] | string[] | IncomingHttpHeaders | null {
    return this.#inner.rawHeaders ?? null;
  }
  get rawTrailers(): Buffer[] | string[] | IncomingHttpHeaders | null {
    return this.#inner.rawTrailers ?? null;
  }
  abort(reason: Error): void {
    this.#inner.abort(reason);
  }
  pause(): void {
    this.#userPaused = true;
    this.#inner.pause();
  }
  resume(): void {
    this.#userPaused = false;
    if (!this.#recorderPaused) this.#inner.resume();
  }
  /** The recorder's pause (its file is behind). */
  pauseForRecorder(): void {
    this.#recorderPaused = true;
    this.#inner.pause();
  }
  /** The recorder caught up. */
  resumeForRecorder(): void {
    this.#recorderPaused = false;
    if (!this.#userPaused) this.#inner.resume();
  }
}

/**
 * The observer a {@link RecordingHandler} reports to.
 * @internal
 */
export interface ResponseObserver {
  start(statusCode: number, headers: IncomingHttpHeaders, statusMessage: string | undefined): void;
  data(chunk: Buffer, controller: GatedController): void;
  end(trailers: IncomingHttpHeaders): void;
  error(error: Error): void;
}

/**
 * Wraps the user's handler: forwards every call unchanged (in the controller style) and reports
 * status, headers, body chunks, end and errors to an observer. It implements both handler styles,
 * so any dispatcher (undici's own, which unwraps, or a custom one calling legacy callbacks) can
 * drive it.
 * @internal
 */
export class RecordingHandler implements DispatchHandler {
  readonly #target: DispatchHandler;
  readonly #observer: ResponseObserver;
  #gated: GatedController | undefined;
  #legacy: LegacyController | undefined;
  #finished = false;

  constructor(target: DispatchHandler, observer: ResponseObserver) {
    this.#target = toControllerHandler(target);
    this.#observer = observer;
  }

  #gate(controller: DispatchController | undefined): GatedController {
    if (this.#gated === undefined || (controller !== undefined && this.#gated.inner !== controller)) {
      this.#gated = new GatedController(controller ?? new LegacyController());
    }
    return this.#gated;
  }

  // Controller API

  onRequestStart(controller: DispatchController, context: unknown): void {
    this.#target.onRequestStart?.(this.#gate(controller), context);
  }

  onRequestUpgrade(
    controller: DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.#target.onRequestUpgrade?.(this.#gate(controller), statusCode, headers, socket);
  }

  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    const gated = this.#gate(controller);
    // 1xx informational responses are passed on but not recorded: only the final one is.
    if (statusCode >= 200) this.#observer.start(statusCode, headers, statusMessage);
    this.#target.onResponseStart?.(gated, statusCode, headers, statusMessage);
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    const gated = this.#gate(controller);
    this.#observer.data(chunk, gated);
    this.#target.onResponseData?.(gated, chunk);
  }

  onResponseEnd(controller: DispatchController, trailers: IncomingHttpHeaders): void {
    const gated = this.#gate(controller);
    if (!this.#finished) {
      this.#finished = true;
      this.#observer.end(trailers);
    }
    this.#target.onResponseEnd?.(gated, trailers);
  }

  onResponseError(controller: DispatchController | undefined, error: Error): void {
    const gated = this.#gate(controller);
    if (!this.#finished) {
      this.#finished = true;
      this.#observer.error(error);
    }
    this.#target.onResponseError?.(gated, error);
  }

  // Legacy callbacks, for dispatchers that call them directly.

  onConnect(abort: (reason?: Error) => void, context?: unknown): void {
    this.#legacy = new LegacyController(abort);
    this.onRequestStart(this.#legacy, context);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const legacy = this.#legacyController();
    legacy.setResume(resume);
    legacy.rawHeaders = rawHeaders;
    this.onResponseStart(
      legacy,
      statusCode,
      util.parseHeaders(rawHeaders) as IncomingHttpHeaders,
      statusText,
    );
    return !legacy.paused;
  }

  onData(chunk: Buffer): boolean {
    const legacy = this.#legacyController();
    this.onResponseData(legacy, chunk);
    return !legacy.paused;
  }

  onComplete(rawTrailers: string[] | Buffer[] | null): void {
    const legacy = this.#legacyController();
    this.onResponseEnd(legacy, util.parseHeaders((rawTrailers ?? []) as Buffer[]) as IncomingHttpHeaders);
  }

  onError(error: Error): void {
    this.onResponseError(this.#legacyController(), error);
  }

  onUpgrade(statusCode: number, rawHeaders: Buffer[] | string[] | null, socket: Duplex): void {
    const legacy = this.#legacyController();
    this.onRequestUpgrade(
      legacy,
      statusCode,
      util.parseHeaders((rawHeaders ?? []) as Buffer[]) as IncomingHttpHeaders,
      socket,
    );
  }

  #legacyController(): LegacyController {
    this.#legacy ??= new LegacyController();
    return this.#legacy;
  }
}
