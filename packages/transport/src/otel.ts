import type { Context, ContextManager, Span, Tracer, TracerProvider } from '@opentelemetry/api';

// This file reaches OpenTelemetry without loading `@opentelemetry/api` (about 35 ms of start-up
// on a fast machine, far more on a busy one), so a process that never traces pays nothing. It
// reads what the API itself reads: the registry every copy of API 1.x shares on `globalThis`
// under `Symbol.for('opentelemetry.js.api.1')` (where `trace.setGlobalTracerProvider` and
// `context.setGlobalContextManager` put the provider and the context manager), and the context
// key of the active span, `Symbol.for('OpenTelemetry Context Key SPAN')`, which every copy of the
// API uses so that several copies in one process agree. `trace.setSpan(context, span)` is
// `context.setValue(SPAN_KEY, span)`; `context.with(ctx, fn)` is the registered manager's `with`.
// otel.test.ts holds both keys to the API's own functions.

/** Where API 1.x keeps its global provider and context manager. */
const API_GLOBAL = Symbol.for('opentelemetry.js.api.1');
/** The context key under which the API keeps the active span. */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/** The part of the API's global registry read here. */
interface ApiGlobal {
  readonly trace?: TracerProvider;
  readonly context?: ContextManager;
}

function apiGlobal(): ApiGlobal | undefined {
  const value: unknown = (globalThis as Record<symbol, unknown>)[API_GLOBAL];
  return typeof value === 'object' && value !== null ? (value as ApiGlobal) : undefined;
}

/**
 * An immutable context, the API's `ROOT_CONTEXT` for a process with no context manager (the API
 * would hand out its own, which it would have to be loaded for).
 */
class RootContext implements Context {
  readonly #values: ReadonlyMap<symbol, unknown>;
  constructor(values: ReadonlyMap<symbol, unknown> = new Map()) {
    this.#values = values;
  }
  getValue(key: symbol): unknown {
    return this.#values.get(key);
  }
  setValue(key: symbol, value: unknown): Context {
    return new RootContext(new Map(this.#values).set(key, value));
  }
  deleteValue(key: symbol): Context {
    const values = new Map(this.#values);
    values.delete(key);
    return new RootContext(values);
  }
}

/**
 * A tracer and the context operations of the process, as `@opentelemetry/api`'s `trace` and
 * `context` would give them.
 * @internal
 */
export interface ActiveTracing {
  readonly tracer: Tracer;
  /** The active context: the registered context manager's, else an empty root context. */
  active(): Context;
  /** Runs `fn` with `context` active (with a context manager; without one, just runs it). */
  with<T>(context: Context, fn: () => T): T;
}

/** The context with `span` as its span (`trace.setSpan`). @internal */
export function contextWithSpan(context: Context, span: Span): Context {
  return context.setValue(SPAN_KEY, span);
}

/** The span of a context (`trace.getSpan`). @internal */
export function spanOfContext(context: Context): Span | undefined {
  return context.getValue(SPAN_KEY) as Span | undefined;
}

/**
 * The name of the tracer asked of the global provider.
 * @internal
 */
export const TRACER_NAME = '@ghcr/transport';

/**
 * Resolves tracing on each call: `tracer` when one is given, else a tracer of the tracer provider
 * registered globally (`trace.setGlobalTracerProvider`, `NodeSDK.start()`, `provider.register()`),
 * looked at each time so a provider registered after the client was made counts. Undefined when
 * there is neither: callers then skip tracing altogether.
 * @internal
 */
export function createTracingSource(tracer?: Tracer): () => ActiveTracing | undefined {
  let globalProvider: TracerProvider | undefined;
  let globalTracer: Tracer | undefined;
  const root = new RootContext();
  return () => {
    const registry = apiGlobal();
    let chosen = tracer;
    if (chosen === undefined) {
      const provider = registry?.trace;
      if (provider === undefined) return undefined;
      if (provider !== globalProvider) {
        globalProvider = provider;
        globalTracer = provider.getTracer(TRACER_NAME);
      }
      chosen = globalTracer;
    }
    if (chosen === undefined) return undefined;
    const manager = registry?.context;
    return {
      tracer: chosen,
      active: () => manager?.active() ?? root,
      with: (context, fn) => (manager === undefined ? fn() : manager.with(context, fn)),
    };
  };
}
