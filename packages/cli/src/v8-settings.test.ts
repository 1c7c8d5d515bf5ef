import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  hasMaglev,
  shortCommandV8Flags,
  useLongRunningV8Settings,
  useShortCommandV8Settings,
} from './v8-settings.js';

describe('the V8 settings of a short command', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('are put back for a long-running command only in a process the loader set them in', () => {
    // The flags are recorded, not set: this test's process keeps V8's defaults.
    const set = vi.spyOn(v8, 'setFlagsFromString').mockImplementation(() => {});
    // A program that calls run() itself never had them: nothing to put back.
    useLongRunningV8Settings();
    expect(set).not.toHaveBeenCalled();

    const maglev = hasMaglev() ? ['--no-maglev'] : [];
    useShortCommandV8Settings();
    expect(set.mock.calls.map(([flag]) => flag)).toEqual([
      '--no-opt',
      '--semi-space-growth-factor=1',
      ...maglev,
    ]);
    set.mockClear();

    useLongRunningV8Settings();
    expect(set.mock.calls.map(([flag]) => flag)).toEqual([
      '--opt',
      '--semi-space-growth-factor=2',
      ...(maglev.length > 0 ? ['--maglev'] : []),
    ]);
    set.mockClear();
    // Once only.
    useLongRunningV8Settings();
    expect(set).not.toHaveBeenCalled();
  });

  it('turn Maglev off only where it is built in, and so on by default', () => {
    expect(hasMaglev({ variables: { v8_enable_maglev: 1 } })).toBe(true);
    expect(hasMaglev({ variables: { v8_enable_maglev: 0 } })).toBe(false);
    expect(hasMaglev({ variables: {} })).toBe(false);
    expect(shortCommandV8Flags(true).at(-1)).toEqual({ set: '--no-maglev', restore: '--maglev' });
    expect(shortCommandV8Flags(false).map(({ set }) => set)).not.toContain('--no-maglev');
  });
});
