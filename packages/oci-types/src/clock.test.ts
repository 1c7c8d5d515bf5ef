import { afterEach, describe, expect, it, vi } from 'vitest';
import { createManualClock, systemClock } from './clock.js';

/** Lets every queued callback run (real timers only). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function track(promise: Promise<void>): {
  readonly state: () => 'pending' | 'resolved' | 'rejected';
  reason: () => unknown;
} {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  let reason: unknown;
  promise.then(
    () => {
      state = 'resolved';
    },
    (error: unknown) => {
      state = 'rejected';
      reason = error;
    },
  );
  return { state: () => state, reason: () => reason };
}

describe('createManualClock', () => {
  it('starts at 2026-01-01T00:00:00Z unless told otherwise', () => {
    expect(createManualClock().now()).toBe(Date.UTC(2026, 0, 1));
    expect(createManualClock(1234).now()).toBe(1234);
  });

  it('does not move by itself', async () => {
    const clock = createManualClock(0);
    const sleep = track(clock.sleep(10));
    await settle();
    expect(clock.now()).toBe(0);
    expect(sleep.state()).toBe('pending');
    expect(clock.pendingSleeps).toBe(1);
  });

  it('resolves sleeps in due order on advance, each at its own time', async () => {
    const clock = createManualClock(0);
    const woke: [string, number][] = [];
    const sleeper = (name: string, ms: number): Promise<void> =>
      clock.sleep(ms).then(() => {
        woke.push([name, clock.now()]);
      });
    const all = [
      sleeper('c', 300),
      sleeper('a', 100),
      sleeper('b', 200),
      sleeper('a2', 100),
      sleeper('late', 1000),
    ];
    expect(clock.pendingSleeps).toBe(5);

    await clock.advance(250);
    expect(woke).toEqual([
      ['a', 100],
      ['a2', 100], // equal due times wake in the order they were made
      ['b', 200],
    ]);
    expect(clock.now()).toBe(250);
    expect(clock.pendingSleeps).toBe(2);

    await clock.advance(750);
    expect(woke.map(([name]) => name)).toEqual(['a', 'a2', 'b', 'c', 'late']);
    expect(woke.at(-1)).toEqual(['late', 1000]);
    expect(clock.pendingSleeps).toBe(0);
    await Promise.all(all);
  });

  it('wakes a task that sleeps again within the same advance', async () => {
    const clock = createManualClock(0);
    const times: number[] = [];
    const task = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        times.push(clock.now());
      }
    })();
    await clock.advance(250);
    expect(times).toEqual([100, 200]);
    await clock.advance(50);
    expect(times).toEqual([100, 200, 300]);
    await task;
  });

  it('resolves a zero or negative sleep on the next advance', async () => {
    const clock = createManualClock(0);
    const zero = track(clock.sleep(0));
    const negative = track(clock.sleep(-5));
    await settle();
    expect(zero.state()).toBe('pending');
    await clock.advance(0);
    expect(zero.state()).toBe('resolved');
    expect(negative.state()).toBe('resolved');
  });

  it('rejects with the signal’s reason on abort and forgets the sleep', async () => {
    const clock = createManualClock(0);
    const controller = new AbortController();
    const sleep = track(clock.sleep(100, controller.signal));
    const other = track(clock.sleep(100));
    expect(clock.pendingSleeps).toBe(2);
    const reason = new Error('cancelled by the caller');
    controller.abort(reason);
    await settle();
    expect(sleep.state()).toBe('rejected');
    expect(sleep.reason()).toBe(reason);
    expect(clock.pendingSleeps).toBe(1);
    await clock.advance(100);
    expect(other.state()).toBe('resolved');
    expect(sleep.state()).toBe('rejected');
  });

  it('rejects at once for an already aborted signal, with an AbortError by default', async () => {
    const clock = createManualClock(0);
    const controller = new AbortController();
    controller.abort();
    await expect(clock.sleep(10, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(clock.pendingSleeps).toBe(0);
  });

  it('ignores an abort that comes after the sleep resolved', async () => {
    const clock = createManualClock(0);
    const controller = new AbortController();
    const sleep = track(clock.sleep(10, controller.signal));
    await clock.advance(10);
    controller.abort();
    await settle();
    expect(sleep.state()).toBe('resolved');
  });

  it('set() moves time forward, never backwards, and works detached from the clock', async () => {
    const clock = createManualClock(1000);
    const sleep = track(clock.sleep(500));
    const { set, advance, now } = clock;
    await set(1400);
    expect(now()).toBe(1400);
    expect(sleep.state()).toBe('pending');
    await set(1500);
    expect(sleep.state()).toBe('resolved');
    await set(10);
    expect(clock.now()).toBe(1500);
    await advance(-100);
    expect(clock.now()).toBe(1500);
  });
});

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads Date.now()', () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2030, 5, 1));
    expect(systemClock.now()).toBe(Date.UTC(2030, 5, 1));
  });

  it('sleeps for the given time, under fake timers', async () => {
    vi.useFakeTimers();
    const sleep = track(systemClock.sleep(1000));
    await vi.advanceTimersByTimeAsync(999);
    expect(sleep.state()).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(sleep.state()).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('treats a negative sleep as zero', async () => {
    vi.useFakeTimers();
    const sleep = track(systemClock.sleep(-50));
    await vi.advanceTimersByTimeAsync(0);
    expect(sleep.state()).toBe('resolved');
  });

  it('rejects on abort and clears its timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const sleep = track(systemClock.sleep(60_000, controller.signal));
    expect(vi.getTimerCount()).toBe(1);
    controller.abort(new Error('stop'));
    await vi.advanceTimersByTimeAsync(0);
    expect(sleep.state()).toBe('rejected');
    expect((sleep.reason() as Error).message).toBe('stop');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once for an already aborted signal', async () => {
    vi.useFakeTimers();
    await expect(systemClock.sleep(10, AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ignores an abort after it resolved', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const sleep = track(systemClock.sleep(5, controller.signal));
    await vi.advanceTimersByTimeAsync(5);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(sleep.state()).toBe('resolved');
  });
});
