import type { Readable } from 'node:stream';
import type { Clock } from '@ghcr/oci-types';
import type { Context, Span, Tracer } from '@opentelemetry/api';

/**
 * A request body. Buffers and strings are replayable; so is a factory returning a fresh stream on
 * each call (`() => fs.createReadStream(path)`). A stream or async iterable passed directly can be
 * sent once only: a retry of it fails with `GHCR_BODY_NOT_REPLAYABLE` (the upload layer resumes
 * instead).
 * @public
 */
export type RequestBody =
  | Uint8Array
  | string
  | (() => Readable | AsyncIterable<Uint8Array>)
  | Readable
  | AsyncIterable<Uint8Array>
  | ViewBody;

/**
 * A one-shot request body that can also hand its bytes out as views of buffers it reuses (a blob
 * read from a registry on the transport's own connections, on its way to another). The
 * transport's own connections read it with `eachView`: each view goes straight to the socket, so
 * no byte is copied on the way; a view the socket could not write through to the kernel at once
 * is held (the promise returned for it pending) until the socket has taken it. A dispatcher
 * (undici, a simulation) iterates it instead, which must then yield chunks of their own. Like any
 * stream, it is sent once: a retry fails with `GHCR_BODY_NOT_REPLAYABLE`.
 * @public
 */
export interface ViewBody extends AsyncIterable<Uint8Array> {
  /**
   * Hands each piece of the body to `onView` in order, holding the next back while the promise
   * `onView` returned for the last one is pending; resolves once the body ended and that promise
   * settled. Rejects when `onView` rejects or throws (the body then stops). Called at most once,
   * instead of iterating the body.
   */
  eachView(onView: ViewConsumer): Promise<void>;
}

/**
 * What a request needs authorised.
 * - `registry`: an OCI registry request for `repository` needing `actions` (the token manager picks
 *   or fetches a scoped token; a 401 challenge is answered once).
 * - `github-api`: a GitHub REST API request (`Authorization: Bearer <token>` from the credentials).
 * - `none`: send no credentials (e.g. a signed blob URL).
 * @public
 */
export type AuthHint =
  | {
      readonly kind: 'registry';
      readonly repository?: string;
      readonly actions: readonly string[];
      /** More repositories the same token must cover, e.g. `pull` on the source of a cross-repository mount. */
      readonly extraScopes?: readonly { readonly repository: string; readonly actions: readonly string[] }[];
    }
  | { readonly kind: 'github-api' }
  | { readonly kind: 'none' };

/**
 * One logical request. Middleware never mutates it: they pass modified copies down.
 * @public
 */
export interface TransportRequest {
  /** Names the operation for metrics and spans: `manifests.get`, `blobs.upload`, `versions.list`. */
  readonly operation: string;
  readonly method: string;
  /** Absolute URL. */
  readonly url: string;
  /** Request headers, lower-case names. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: RequestBody;
  /** Body length in bytes when known (sets Content-Length; counted in metrics). */
  readonly contentLength?: number;
  /** Authorisation needed. If omitted, `{ kind: 'none' }`. */
  readonly auth?: AuthHint;
  /** Statuses (besides 2xx) that are answers, not errors: e.g. `[404]` for an existence check,
   * `[307]` to see a redirect instead of following it. If omitted, only 2xx. */
  readonly acceptStatus?: readonly number[];
  /**
   * The response body is large (a blob) and read through once.
   * @deprecated No longer changes how a request is sent: when the transport owns its connections
   * (no `dispatcher` was given, and `ownBlobConnections` is not false), every request goes out on
   * an HTTP/1.1 connection the transport opens itself, and its body has `eachView`.
   */
  readonly largeBody?: boolean;
  /** Follow 301/302/303/307/308 for GET and HEAD. If omitted, true. */
  readonly followRedirects?: boolean;
  readonly signal?: AbortSignal | undefined;
  /**
   * The OpenTelemetry context of the operation this request is part of (`@ghcr/client` sets it
   * for every request of `images.push`, `retention.execute`, …): its HTTP spans become children
   * of the span in it, and the request gets no span of its own. If omitted, the request gets an
   * INTERNAL span named by `operation`, under the active context.
   */
  readonly traceContext?: Context | undefined;
}

/**
 * A response. The body streams; read it, or call `body.dump()` / `body.destroy()` to release the
 * connection.
 * @public
 */
export interface TransportResponse {
  readonly status: number;
  /** Response headers, lower-case names; repeated headers as arrays. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: ResponseBody;
  /** The URL that answered (after redirects), redacted. */
  readonly url: string;
}

/**
 * Takes one piece of a body read with `eachView`: a view of a buffer the connection reuses. It
 * stays valid until the function returns, or, when the function returns a promise, until that
 * promise settles (no more pieces come meanwhile); copy what you keep longer. A rejection (or a
 * throw) fails the read and closes the connection.
 * @public
 */
export type ViewConsumer = (view: Uint8Array) => Promise<void> | undefined;

/**
 * A streaming response body (undici's BodyReadable satisfies it).
 * @public
 */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  /**
   * Present on the bodies of responses read on the transport's own connections: hands
   * each piece of the body to `onView` without a copy, and resolves once the body ended and the
   * last promise `onView` returned settled. Call it once, before reading the body any other way.
   */
  eachView?(onView: ViewConsumer): Promise<void>;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
  dump(options?: { limit?: number }): Promise<void>;
  destroy(error?: Error): unknown;
  pipe<T extends NodeJS.WritableStream>(destination: T, options?: { end?: boolean }): T;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/**
 * Per-request state shared by the middleware of one pipeline run.
 * @public
 */
export interface RequestContext {
  readonly clock: Clock;
  /** 0 on the first attempt, incremented by each middleware that re-sends. */
  attempt: number;
  /** Retries by reason, for metrics and spans. */
  readonly retries: { reason: string; delayMs: number }[];
  /** The request's own span (see `TransportRequest.traceContext`), when tracing is on. */
  operationSpan?: Span;
  /** The tracer and the parent of the request's HTTP attempt spans, when tracing is on. */
  trace?: { readonly tracer: Tracer; readonly parent: Context };
}

/**
 * The function each layer of the pipeline implements.
 * @public
 */
export type Handler = (request: TransportRequest, context: RequestContext) => Promise<TransportResponse>;

/**
 * A layer: given the next handler, returns a handler.
 * @public
 */
export type Middleware = (next: Handler) => Handler;

/**
 * A named layer of the pipeline.
 * @public
 */
export interface PipelineEntry {
  readonly name: string;
  readonly middleware: Middleware;
}
