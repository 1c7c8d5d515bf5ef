import { createManualClock, type ManualClock } from '@ghcr/oci-types';

/** A manual clock that also records every sleep requested (for asserting on waits, not on time). */
export interface RecordingClock extends ManualClock {
  readonly sleeps: number[];
}

/** @internal test support */
export function createRecordingClock(start?: number): RecordingClock {
  const clock = createManualClock(start);
  const sleeps: number[] = [];
  return {
    now: () => clock.now(),
    sleep: (ms: number, signal?: AbortSignal) => {
      sleeps.push(ms);
      return clock.sleep(ms, signal);
    },
    advance: (ms: number) => clock.advance(ms),
    set: (ms: number) => clock.set(ms),
    get pendingSleeps() {
      return clock.pendingSleeps;
    },
    sleeps,
  };
}

/** Advances `clock` in steps until `promise` settles; returns its outcome. */
export async function settle<T>(
  promise: Promise<T>,
  clock: ManualClock,
  stepMs = 100,
  maxSteps = 100_000,
): Promise<T> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (let i = 0; i < maxSteps && !done; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!done) await clock.advance(stepMs);
  }
  return promise;
}
