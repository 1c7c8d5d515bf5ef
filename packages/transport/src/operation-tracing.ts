import { AsyncLocalStorage } from 'node:async_hooks';
import type { Attributes, Context, SpanKind, Tracer } from '@opentelemetry/api';
import { type ActiveTracing, contextWithSpan, createTracingSource, spanOfContext } from './otel.js';
import { recordSpanError } from './tracing.js';

/** `SpanKind.INTERNAL` (spelled out so that nothing loads `@opentelemetry/api`). */
const SPAN_KIND_INTERNAL = 0 as SpanKind.INTERNAL;

/**
 * How one operation is traced.
 * @public
 */
export interface OperationSpanOptions<T> {
  /**
   * Attributes of the operation span (repository, reference, registry host; never a credential),
   * or a function computing them, called only when a span is made. If omitted, only
   * `ghcr.operation`.
   */
  readonly attributes?: Attributes | (() => Attributes);
  /** Attributes read from the operation's result when it succeeds (a digest, counts). If omitted, none. */
  readonly resultAttributes?: (result: Awaited<T>) => Attributes;
  /**
   * Whether a call made inside another operation of the same {@link OperationTracing} gets a span
   * of its own. Leaf capabilities (`blobs.*`, `manifests.*`) say false, so that an `images.copy`
   * that writes through them shows its HTTP requests directly under itself. If omitted, true.
   */
  readonly nested?: boolean;
}

/**
 * Operation spans for a library built on a transport: one INTERNAL span per public operation
 * (`images.push`, `retention.execute`), the parent of the HTTP spans of every request the
 * operation sends (pass {@link OperationTracing.current} as `TransportRequest.traceContext`).
 *
 * The parent travels two ways: through the OpenTelemetry context (`context.with`, so your own
 * spans and other instrumentations see the operation's span as active when a context manager is
 * registered) and through an `AsyncLocalStorage` of this instance, so that HTTP spans are the
 * operation's children even in a process with no context manager.
 * @public
 */
export interface OperationTracing {
  /**
   * Runs `run` as the operation `name`. A promise result ends the span when it settles; an error
   * (thrown or rejected) sets status ERROR and records the exception. Without a tracer (none
   * given, no global provider) it only calls `run`.
   */
  run<T>(name: string, options: OperationSpanOptions<T>, run: () => T): T;
  /**
   * `iterable` (from an operation that pages, such as `versions.iterate`) traced as the operation
   * `name`: the span opens when iteration starts and ends when it finishes, fails or is left.
   */
  iterate<T>(
    name: string,
    options: OperationSpanOptions<never>,
    iterable: AsyncIterable<T>,
  ): AsyncIterable<T>;
  /** The context of the operation running in the caller's async scope; undefined outside one. */
  current(): Context | undefined;
}

/**
 * Options of {@link createOperationTracing}.
 * @public
 */
export interface OperationTracingOptions {
  /** The tracer. If omitted, one of the provider registered globally with `@opentelemetry/api`, looked up at each operation; no spans while none is registered. */
  readonly tracer?: Tracer | undefined;
}

/**
 * Creates the operation spans of one client (see {@link OperationTracing}).
 * @public
 */
export function createOperationTracing(options: OperationTracingOptions = {}): OperationTracing {
  const source = createTracingSource(options.tracer);
  let storage: AsyncLocalStorage<Context> | undefined;
  /** The parent of a new operation span: the active context when it has a span, else the operation running here. */
  const parentOf = (tracing: ActiveTracing): Context => {
    const active = tracing.active();
    if (spanOfContext(active) !== undefined) return active;
    return storage?.getStore() ?? active;
  };
  const insideOperation = (): boolean => storage?.getStore() !== undefined;
  const start = (
    tracing: ActiveTracing,
    name: string,
    attributes: OperationSpanOptions<never>['attributes'],
  ) => {
    const parent = parentOf(tracing);
    const own = typeof attributes === 'function' ? attributes() : attributes;
    const span = tracing.tracer.startSpan(
      name,
      { kind: SPAN_KIND_INTERNAL, attributes: { 'ghcr.operation': name, ...own } },
      parent,
    );
    const context = contextWithSpan(parent, span);
    // Created on the first traced operation: a process that never traces never enables async hooks.
    storage ??= new AsyncLocalStorage<Context>();
    const store = storage;
    const within = <R>(fn: () => R): R => store.run(context, () => tracing.with(context, fn));
    return { span, within };
  };
  return {
    run(name, spanOptions, run) {
      const tracing = source();
      if (tracing === undefined || (spanOptions.nested === false && insideOperation())) return run();
      const { span, within } = start(tracing, name, spanOptions.attributes);
      const succeed = (value: unknown): void => {
        if (spanOptions.resultAttributes !== undefined) {
          span.setAttributes(spanOptions.resultAttributes(value as Awaited<ReturnType<typeof run>>));
        }
        span.end();
      };
      const fail = (error: unknown): void => {
        recordSpanError(span, error);
        span.end();
      };
      let result: ReturnType<typeof run>;
      try {
        result = within(run);
      } catch (error) {
        fail(error);
        throw error;
      }
      if (isPromiseLike(result)) {
        return result.then(
          (value) => {
            succeed(value);
            return value;
          },
          (error: unknown) => {
            fail(error);
            throw error;
          },
        ) as ReturnType<typeof run>;
      }
      succeed(result);
      return result;
    },
    iterate(name, spanOptions, iterable) {
      return {
        [Symbol.asyncIterator]() {
          const tracing = source();
          if (tracing === undefined || (spanOptions.nested === false && insideOperation())) {
            return iterable[Symbol.asyncIterator]();
          }
          const { span, within } = start(tracing, name, spanOptions.attributes);
          const iterator = within(() => iterable[Symbol.asyncIterator]());
          let open = true;
          const end = (error?: { readonly error: unknown }): void => {
            if (!open) return;
            open = false;
            if (error !== undefined) recordSpanError(span, error.error);
            span.end();
          };
          const step = async <R>(call: () => Promise<IteratorResult<R>>): Promise<IteratorResult<R>> => {
            try {
              const result = await within(call);
              if (result.done === true) end();
              return result;
            } catch (error) {
              end({ error });
              throw error;
            }
          };
          return {
            next: () => step(() => iterator.next()),
            return: (value?: unknown) =>
              step(async () => {
                const result = (await iterator.return?.(value)) ?? { done: true as const, value: undefined };
                end();
                return result;
              }),
            throw: (error?: unknown) =>
              step(async () => {
                if (iterator.throw === undefined) throw error;
                return iterator.throw(error);
              }),
          };
        },
      };
    },
    current: () => storage?.getStore(),
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
