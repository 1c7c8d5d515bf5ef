import v8 from 'node:v8';

/**
 * The V8 settings the `ghcr` executable's loader (bin.ts) makes for a short command, beyond
 * `--liftoff-only`, each with the value that puts V8's default back. Only bin.ts sets them; a
 * program that calls `run()` keeps its own.
 * @internal
 */
export const SHORT_COMMAND_V8_FLAGS = [
  { set: '--no-opt', restore: '--opt' },
  { set: '--semi-space-growth-factor=1', restore: '--semi-space-growth-factor=2' },
] as const;

/** Set on `globalThis` by bin.ts once it has made the settings above. */
const MARK = Symbol.for('@ghcr/cli:short-command-v8-settings');

/** Makes {@link SHORT_COMMAND_V8_FLAGS} and marks the process (bin.ts, before anything else runs). @internal */
export function useShortCommandV8Settings(): void {
  for (const { set } of SHORT_COMMAND_V8_FLAGS) v8.setFlagsFromString(set);
  (globalThis as Record<symbol, unknown>)[MARK] = true;
}

/**
 * For a command that runs until it is stopped (`ghcr serve`): V8's defaults again, if bin.ts made
 * the short-command settings. A server's JavaScript runs for hours, where the optimising compiler
 * pays for itself: 3,000 authenticated tag lists from `ghcr serve`, 4 at a time, took 4.18-4.43 s
 * under the short command's settings and 2.64-2.69 s with the defaults back.
 * @internal
 */
export function useLongRunningV8Settings(): void {
  const marked = globalThis as Record<symbol, unknown>;
  if (marked[MARK] !== true) return;
  for (const { restore } of SHORT_COMMAND_V8_FLAGS) v8.setFlagsFromString(restore);
  delete marked[MARK];
}
