import { describe, expect, it } from 'vitest';
import { createRecordingClock, settle } from './recording-clock.js';

describe('createRecordingClock', () => {
  it('records each sleep asked for, and settle advances it until the sleeps end', async () => {
    const clock = createRecordingClock(1_000);
    const slept = (async () => {
      await clock.sleep(250);
      await clock.sleep(500);
      return clock.now();
    })();
    expect(await settle(slept, clock, 50)).toBe(1_750);
    expect(clock.sleeps).toEqual([250, 500]);
  });
});
