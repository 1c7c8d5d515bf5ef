import { SimulationMismatchError } from '@ghcr/oci-types';
import { Dispatcher, errors } from 'undici';
import { ConnectionResetSignal, type ExchangeEnvironment, exchange } from '../exchange.js';
import { streamOf } from '../registry/body.js';
import { PausableController } from './pausable-controller.js';

type DispatchOptions = Dispatcher.DispatchOptions;
type DispatchHandler = Dispatcher.DispatchHandler;
type DispatchController = Dispatcher.DispatchController;
type IncomingHeaders = Record<string, string | string[] | undefined>;

/** The handler callbacks, new style. */
interface ControllerHandler {
  onRequestStart(controller: DispatchController, context: unknown): void;
  onResponseStart(
    controller: DispatchController,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage: string,
  ): void;
  onResponseData(controller: DispatchController, chunk: Buffer): void;
  onResponseEnd(controller: DispatchController, trailers: IncomingHeaders): void;
  onResponseError(controller: DispatchController, error: Error): void;
}

function rawHeadersOf(headers: IncomingHeaders): Buffer[] {
  const raw: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value])
      raw.push(Buffer.from(name, 'latin1'), Buffer.from(one, 'latin1'));
  }
  return raw;
}

/** Gives every handler the new controller API, adapting legacy callback handlers (undici.request, fetch). */
function controllerHandler(handler: DispatchHandler): ControllerHandler {
  if (typeof handler.onRequestStart === 'function' || typeof handler.onResponseStart === 'function') {
    return {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onResponseStart: (controller, status, headers, message) =>
        handler.onResponseStart?.(controller, status, headers as Record<string, string | string[]>, message),
      onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
      onResponseEnd: (controller, trailers) =>
        handler.onResponseEnd?.(controller, trailers as Record<string, string | string[]>),
      onResponseError: (controller, error) => {
        if (handler.onResponseError === undefined) throw error;
        handler.onResponseError(controller, error);
      },
    };
  }
  return {
    onRequestStart: (controller) =>
      handler.onConnect?.((error?: Error) => controller.abort(error ?? new errors.RequestAbortedError())),
    onResponseStart: (controller, status, headers, message) => {
      if (handler.onHeaders?.(status, rawHeadersOf(headers), () => controller.resume(), message) === false)
        controller.pause();
    },
    onResponseData: (controller, chunk) => {
      if (handler.onData?.(chunk) === false) controller.pause();
    },
    onResponseEnd: () => handler.onComplete?.([]),
    onResponseError: (_controller, error) => {
      if (handler.onError === undefined) throw error;
      handler.onError(error);
    },
  };
}

function headersFrom(input: DispatchOptions['headers']): Headers {
  const headers = new Headers();
  if (input === undefined || input === null) return headers;
  const add = (name: string, value: unknown): void => {
    if (value === undefined || value === null) return;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, String(one));
  };
  if (Array.isArray(input)) {
    for (let i = 0; i + 1 < input.length; i += 2) add(String(input[i]), input[i + 1]);
  } else if (typeof (input as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of input as Iterable<[string, string | string[] | undefined]>) add(pair[0], pair[1]);
  } else {
    for (const [name, value] of Object.entries(input as Record<string, unknown>)) add(name, value);
  }
  return headers;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}

async function* asBytes(source: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    if (typeof chunk === 'string') yield Buffer.from(chunk);
    else if (chunk instanceof Uint8Array) yield chunk;
    else if (ArrayBuffer.isView(chunk))
      yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else if (chunk instanceof ArrayBuffer) yield new Uint8Array(chunk);
    else throw new TypeError(`request body chunks must be strings or bytes, got ${typeof chunk}`);
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Turns a dispatch body into a stream; sets Content-Length for bodies of known size (as a socket client would). */
async function bodyFrom(body: unknown, headers: Headers): Promise<ReadableStream<Uint8Array> | null> {
  if (body === undefined || body === null) return null;
  let bytes: Uint8Array | undefined;
  if (typeof body === 'string') bytes = Buffer.from(body);
  else if (body instanceof Uint8Array) bytes = body;
  else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else if (body instanceof FormData || body instanceof Blob || body instanceof URLSearchParams) {
    const encoded = new Response(body);
    const type = encoded.headers.get('content-type');
    if (type !== null && !headers.has('content-type')) headers.set('content-type', type);
    bytes = new Uint8Array(await encoded.arrayBuffer());
  }
  if (bytes !== undefined) {
    if (!headers.has('content-length')) headers.set('content-length', String(bytes.byteLength));
    return bytes.byteLength === 0 ? null : streamOf(once(bytes));
  }
  if (isAsyncIterable(body)) return streamOf(asBytes(body));
  throw new TypeError(
    'unsupported request body: use a string, Buffer, Uint8Array, Readable, async iterable or FormData',
  );
}

/**
 * An undici {@link Dispatcher} that answers in-process: each dispatch becomes a Fetch `Request`
 * served by the simulation's msw handlers (with faults and logging), and the `Response` streams
 * back with backpressure. Works with `undici.request`, `fetch({ dispatcher })`,
 * `setGlobalDispatcher`, `Agent({ factory })` and `compose()`. Requests no handler matches fail
 * with `SimulationMismatchError` naming METHOD URL; connection-reset faults fail with undici's
 * `SocketError` (`UND_ERR_SOCKET`).
 * @public
 */
export class SimulationDispatcher extends Dispatcher {
  readonly #env: ExchangeEnvironment;
  readonly #inflight = new Set<PausableController>();
  #closed = false;

  /** @internal */
  constructor(env: ExchangeEnvironment) {
    super();
    this.#env = env;
  }

  override dispatch(options: DispatchOptions, handler: DispatchHandler): boolean {
    const adapted = controllerHandler(handler);
    const internal = new AbortController();
    let finished = false;
    const fail = (error: Error): void => {
      if (finished) return;
      finished = true;
      adapted.onResponseError(controller, error);
    };
    const controller = new PausableController((reason) => {
      internal.abort(reason);
      fail(reason);
    });
    if (this.#closed) {
      queueMicrotask(() => fail(new errors.ClientClosedError()));
      return true;
    }
    this.#inflight.add(controller);
    queueMicrotask(() => {
      this.#run(
        options,
        adapted,
        controller,
        internal.signal,
        () => finished,
        () => {
          finished = true;
        },
        fail,
      )
        .catch((error: unknown) => fail(error instanceof Error ? error : new Error(String(error))))
        .finally(() => this.#inflight.delete(controller));
    });
    return true;
  }

  async #run(
    options: DispatchOptions,
    handler: ControllerHandler,
    controller: PausableController,
    signal: AbortSignal,
    isFinished: () => boolean,
    markFinished: () => void,
    fail: (error: Error) => void,
  ): Promise<void> {
    handler.onRequestStart(controller, {});
    if (controller.aborted) return;
    if (options.origin === undefined)
      throw new errors.InvalidArgumentError('the simulation dispatcher needs an origin');
    const url = new URL(options.path, options.origin);
    if (options.query !== undefined && options.query !== null) {
      for (const [name, value] of Object.entries(options.query)) url.searchParams.append(name, String(value));
    }
    const headers = headersFrom(options.headers);
    const body = await bodyFrom(options.body, headers);
    let response: Awaited<ReturnType<typeof exchange>>;
    try {
      response = await exchange(this.#env, {
        method: options.method,
        url: url.toString(),
        headers,
        body,
        signal,
      });
    } catch (error) {
      if (error instanceof ConnectionResetSignal) throw new errors.SocketError('other side closed');
      if (SimulationMismatchError.isInstance(error)) throw error;
      throw error;
    }
    if (controller.aborted || isFinished()) return;
    const responseHeaders: IncomingHeaders = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') responseHeaders[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) responseHeaders['set-cookie'] = cookies;
    handler.onResponseStart(controller, response.status, responseHeaders, response.statusText);
    if (response.body !== null) {
      try {
        for await (const chunk of response.body) {
          if (controller.aborted || isFinished()) return;
          handler.onResponseData(controller, Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if (controller.paused) await controller.waitWhilePaused();
        }
      } catch (error) {
        if (error instanceof ConnectionResetSignal) {
          fail(new errors.SocketError('other side closed'));
          return;
        }
        throw error;
      }
    }
    if (controller.aborted || isFinished()) return;
    markFinished();
    handler.onResponseEnd(controller, {});
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    this.#closed = true;
    const done = (async () => {
      while (this.#inflight.size > 0) await new Promise((resolve) => setImmediate(resolve));
    })();
    if (callback === undefined) return done;
    void done.then(callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    callback?: () => void,
  ): Promise<void> | void {
    this.#closed = true;
    const error =
      typeof errorOrCallback === 'function' || errorOrCallback === undefined || errorOrCallback === null
        ? new errors.ClientDestroyedError()
        : errorOrCallback;
    for (const controller of this.#inflight) controller.abort(error);
    this.#inflight.clear();
    const cb = typeof errorOrCallback === 'function' ? errorOrCallback : callback;
    if (cb === undefined) return Promise.resolve();
    queueMicrotask(cb);
  }
}
