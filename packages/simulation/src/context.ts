import type { Clock } from '@ghcr/oci-types';
import type { TokenService } from './auth/tokens.js';
import { type RequestLog, SIMULATION_REQUEST_ID_HEADER } from './log.js';
import type { ResolvedSimulationOptions } from './options.js';
import type { SimulationState } from './state/simulation-state.js';

/**
 * Annotations a handler may attach to the log entry of the request it is answering.
 * @public
 */
export interface RequestAnnotation {
  /** What the request was, e.g. `api.versions.list` (overrides the serving layer's guess). */
  readonly operation?: string;
}

/**
 * What every handler factory (registry, token, blob host, GitHub API) receives. One per
 * simulation; stable for its lifetime (`reset()` clears the state, it does not replace it).
 * @public
 */
export interface SimulationContext {
  /** The resolved options (profile, origins, limits). */
  readonly options: ResolvedSimulationOptions;
  /** Owners, tokens, repositories, packages. Change it only through its methods. */
  readonly state: SimulationState;
  /** The simulation clock (same as `options.clock`). */
  readonly clock: Clock;
  /** The shared request log. */
  readonly log: RequestLog;
  /** PAT and registry-token verification. */
  readonly tokens: TokenService;
  /** `clock.now()`. */
  now(): number;
  /** Attaches annotations to the log entry of `request` (no-op for requests not served by the simulation). */
  annotate(request: Request, annotation: RequestAnnotation): void;
}

/**
 * A log-entry annotator keyed by the internal request-id header.
 * @internal
 */
export interface AnnotationRegistry {
  annotate(request: Request, annotation: RequestAnnotation): void;
  /** Registers an in-flight request id and where its annotations go. */
  track(id: string, sink: (annotation: RequestAnnotation) => void): () => void;
}

/** @internal */
export function createAnnotationRegistry(): AnnotationRegistry {
  const sinks = new Map<string, (annotation: RequestAnnotation) => void>();
  return {
    annotate(request, annotation) {
      const id = request.headers.get(SIMULATION_REQUEST_ID_HEADER);
      if (id !== null) sinks.get(id)?.(annotation);
    },
    track(id, sink) {
      sinks.set(id, sink);
      return () => sinks.delete(id);
    },
  };
}
