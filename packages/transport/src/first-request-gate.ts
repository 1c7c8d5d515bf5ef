/**
 * How the first request to a registry of unknown authentication ended, as far as the requests
 * held behind it are concerned:
 * - `challenged`: the registry answered 401 and the challenge was handed to the authorizer, which
 *   now knows the realm: the held requests ask the authorizer again and go out with a token.
 * - `answered`: any other answer that shows the registry's stance (2xx, 3xx, 404 and the other
 *   4xx but 401, 408 and 429): it needs no credentials for this, so nothing is held any more.
 * - `failed`: no answer to learn from (network error, abort, timeout, 408, 429, 5xx): the held
 *   requests go on without credentials as before, and the next new request goes first again.
 * @internal
 */
export type FirstRequestOutcome = 'challenged' | 'answered' | 'failed';

/**
 * The request that goes first to a registry; it must settle (once: later calls are ignored).
 * @internal
 */
export interface FirstRequestLead {
  /** Releases the requests held behind this one, and records what was learned. */
  settle(outcome: FirstRequestOutcome): void;
}

/**
 * Holds requests to a registry whose authentication is unknown while the first one is in flight,
 * so a cold client meets one 401 challenge rather than one per concurrent request. One per
 * `authMiddleware`; registries never wait on each other.
 * @internal
 */
export interface FirstRequestGate {
  /** How many first requests to `registry` were answered with 401 so far (to spot a stale authorize). */
  challenges(registry: string): number;
  /**
   * For a request about to go to `registry` without `Authorization`: a lead when it goes first
   * (the caller must settle it); `undefined` when it need not wait or once the request it waited
   * for has settled. Rejects with the signal's reason when `signal` aborts first.
   */
  enter(registry: string, signal: AbortSignal | undefined): Promise<FirstRequestLead | undefined>;
}

/**
 * The outcome a first response of `status` reports (`challenged` is the caller's, for a 401).
 * @internal
 */
export function outcomeOfStatus(status: number): FirstRequestOutcome {
  if (status === 401) return 'challenged';
  if (status >= 500 || status === 408 || status === 429) return 'failed';
  return 'answered';
}

function waitUntil(done: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return done;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void done.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

/**
 * Creates an empty gate: every registry starts unknown.
 * @internal
 */
export function createFirstRequestGate(): FirstRequestGate {
  /** Registries whose first response told their stance: never held again. */
  const known = new Set<string>();
  /** Registry → resolves when its first request in flight settles. */
  const inFlight = new Map<string, Promise<void>>();
  const challengeCounts = new Map<string, number>();

  return {
    challenges: (registry) => challengeCounts.get(registry) ?? 0,
    enter(registry, signal) {
      if (signal?.aborted === true) return Promise.reject(signal.reason);
      if (known.has(registry)) return Promise.resolve(undefined);
      const pending = inFlight.get(registry);
      if (pending !== undefined) return waitUntil(pending, signal).then(() => undefined);
      let release = (): void => {};
      const done = new Promise<void>((resolve) => {
        release = resolve;
      });
      inFlight.set(registry, done);
      let settled = false;
      return Promise.resolve({
        settle(outcome: FirstRequestOutcome) {
          if (settled) return;
          settled = true;
          if (inFlight.get(registry) === done) inFlight.delete(registry);
          if (outcome === 'challenged')
            challengeCounts.set(registry, (challengeCounts.get(registry) ?? 0) + 1);
          if (outcome !== 'failed') known.add(registry);
          release();
        },
      });
    },
  };
}
