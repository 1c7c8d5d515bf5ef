/**
 * Time, injected. Retry backoff, rate-limit waits, token expiry and the simulation all read time
 * through a {@link Clock}, so tests control it instead of sleeping.
 */

/**
 * A source of time and of waiting.
 * @public
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * The real clock: `Date.now()` and `setTimeout`. Works with vitest fake timers.
 * @public
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(abortReason(signal as AbortSignal));
      };
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        Math.max(0, ms),
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};

/**
 * A clock that moves only when told to: `advance(ms)` runs every sleep that falls due, in order.
 * @public
 */
export interface ManualClock extends Clock {
  /** Moves time forward, resolving due sleeps; awaits a microtask turn between each. */
  advance(ms: number): Promise<void>;
  /** Sets the time (never backwards). */
  set(epochMs: number): Promise<void>;
  /** Sleeps not yet due. */
  readonly pendingSleeps: number;
}

/**
 * Creates a {@link ManualClock} starting at `startMs` (default 2026-01-01T00:00:00Z).
 * @public
 */
export function createManualClock(startMs: number = Date.UTC(2026, 0, 1)): ManualClock {
  let now = startMs;
  let sequence = 0;
  const sleepers: { due: number; seq: number; resolve: () => void }[] = [];
  const flushDue = async (): Promise<void> => {
    for (;;) {
      sleepers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = sleepers[0];
      if (next === undefined || next.due > now) return;
      sleepers.shift();
      next.resolve();
      // Let the woken task run (and maybe sleep again) before waking the next one.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  const advance = async (ms: number): Promise<void> => {
    const target = now + Math.max(0, ms);
    for (;;) {
      sleepers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = sleepers[0];
      if (next === undefined || next.due > target) break;
      now = Math.max(now, next.due);
      await flushDue();
    }
    now = target;
    await flushDue();
  };
  return {
    now: () => now,
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(abortReason(signal));
          return;
        }
        const entry = { due: now + Math.max(0, ms), seq: sequence++, resolve: () => {} };
        const onAbort = (): void => {
          const i = sleepers.indexOf(entry);
          if (i >= 0) sleepers.splice(i, 1);
          reject(abortReason(signal as AbortSignal));
        };
        entry.resolve = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        sleepers.push(entry);
      });
    },
    advance,
    // Not `this.advance`: the methods keep working when taken off the object.
    set: (epochMs) => advance(Math.max(0, epochMs - now)),
    get pendingSleeps() {
      return sleepers.length;
    },
  };
}
