import v8 from 'node:v8';

/** A V8 setting of a short command and the value that puts V8's default back. @internal */
export interface V8Setting {
  readonly set: string;
  readonly restore: string;
}

/**
 * Whether this Node's V8 has Maglev, its mid-tier optimising compiler, built in. V8 turns Maglev
 * on by default where it is built in: Node 24 has it, Node 20 and 22 are built without it.
 * @internal
 */
export function hasMaglev(config: { readonly variables: object } = process.config): boolean {
  return (config.variables as { readonly v8_enable_maglev?: unknown }).v8_enable_maglev === 1;
}

/**
 * The V8 settings the `ghcr` executable's loader (bin.ts) makes for a short command, beyond
 * `--liftoff-only`, each with the value that puts V8's default back. Only bin.ts sets them; a
 * program that calls `run()` keeps its own. `--no-maglev` only where Maglev is built in (and so on
 * by default), whose default is then `--maglev`.
 * @internal
 */
export function shortCommandV8Flags(maglev: boolean = hasMaglev()): readonly V8Setting[] {
  return [
    { set: '--no-opt', restore: '--opt' },
    { set: '--semi-space-growth-factor=1', restore: '--semi-space-growth-factor=2' },
    ...(maglev ? [{ set: '--no-maglev', restore: '--maglev' }] : []),
  ];
}

/** Set on `globalThis` by bin.ts once it has made the settings above. */
const MARK = Symbol.for('@ghcr/cli:short-command-v8-settings');

/** Makes {@link shortCommandV8Flags} and marks the process (bin.ts, before anything else runs). @internal */
export function useShortCommandV8Settings(): void {
  for (const { set } of shortCommandV8Flags()) v8.setFlagsFromString(set);
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
  for (const { restore } of shortCommandV8Flags()) v8.setFlagsFromString(restore);
  delete marked[MARK];
}
