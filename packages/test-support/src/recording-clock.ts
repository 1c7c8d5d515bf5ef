/**
 * A manual clock for tests that assert on the waits code asked for, never on elapsed time.
 */
import { createManualClock, type ManualClock } from '@ghcr/oci-types';

/**
 * A manual clock that also records every sleep requested (for asserting on waits, not on time).
 * @internal
 */
export interface RecordingClock extends ManualClock {
  /** Every sleep asked for, in ms, in order. */
  readonly sleeps: number[];
}

/**
 * Creates a {@link RecordingClock} starting at `start` (epoch ms; if omitted, the manual clock's
 * default).
 * @internal
 */
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

/**
 * Advances `clock` in steps of `stepMs` (yielding to I/O before each) until `promise` settles;
 * returns its outcome. Gives up advancing after `maxSteps`.
 * @internal
 */
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
