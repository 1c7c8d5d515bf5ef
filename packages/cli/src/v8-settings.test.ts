import v8 from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useLongRunningV8Settings, useShortCommandV8Settings } from './v8-settings.js';

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

    useShortCommandV8Settings();
    expect(set.mock.calls.map(([flag]) => flag)).toEqual(['--no-opt', '--semi-space-growth-factor=1']);
    set.mockClear();

    useLongRunningV8Settings();
    expect(set.mock.calls.map(([flag]) => flag)).toEqual(['--opt', '--semi-space-growth-factor=2']);
    set.mockClear();
    // Once only.
    useLongRunningV8Settings();
    expect(set).not.toHaveBeenCalled();
  });
});
