import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hasMaglev, shortCommandV8Flags } from './v8-settings.js';

// The executable's loader (bin.ts) sets V8 flags as the process starts: `--liftoff-only` itself,
// then the short command's settings (v8-settings.ts). These tests check that the bench's Node
// programs use the same flags, and, on the Node running the tests, that the young-generation
// setting takes effect when set at run time and that `ghcr serve`'s restore undoes it, and, on a
// Node with Maglev (24), that Maglev compiles nothing once the flags are set.

const loader = readFileSync(new URL('./bin.ts', import.meta.url), 'utf8');
const benchFlagsUrl = new URL('../../../bench/lib/v8-flags.mjs', import.meta.url).href;

/** The flags bin.ts sets, in order. */
const loaderFlags = [
  ...[...loader.matchAll(/v8\.setFlagsFromString\('([^']+)'\)/g)].map((match) => match[1] ?? ''),
  ...(loader.includes('useShortCommandV8Settings();') ? shortCommandV8Flags().map(({ set }) => set) : []),
];

/**
 * Runs `lines` in a new Node (of the version running the tests, with `nodeFlags` on its command
 * line) after setting `flags` at run time, as bin.ts sets them; returns its stdout.
 */
function runAfterFlags(
  flags: readonly string[],
  lines: readonly string[],
  nodeFlags: readonly string[] = [],
): string {
  const script = [
    "const v8 = require('node:v8');",
    ...flags.map((flag) => `v8.setFlagsFromString(${JSON.stringify(flag)});`),
    ...lines,
  ].join('\n');
  const child = spawnSync(process.execPath, [...nodeFlags, '-e', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return child.stdout;
}

/** Lines of `--trace-opt` that name Maglev as the target, for a hot function run after `flags` are set. */
function maglevCompiles(flags: readonly string[]): number {
  const trace = runAfterFlags(
    flags,
    [
      'function hot(n) { let sum = 0; for (let i = 0; i < n; i++) sum += i * 2; return sum; }',
      'let total = 0;',
      'for (let k = 0; k < 20000; k++) total += hot(200);',
      'if (total <= 0) process.exit(3);',
    ],
    ['--trace-opt'],
  );
  return trace.split('\n').filter((line) => line.includes('target MAGLEV')).length;
}

/** The size of V8's young generation (both semi-spaces) after a script keeps 300,000 objects alive. */
function youngGenerationBytes(flags: readonly string[]): number {
  return Number(
    runAfterFlags(flags, [
      'const kept = [];',
      "for (let i = 0; i < 300000; i++) kept.push({ i, text: 'x' + i });",
      "const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');",
      // Read after the sizes, so every object is still alive when they are taken.
      'if (kept.length !== 300000) process.exit(3);',
      'process.stdout.write(String(space.space_size));',
    ]),
  );
}

describe('the executable loader’s V8 flags', () => {
  it('are the ones the bench runs its Node programs with', async () => {
    expect(loaderFlags).toEqual([
      '--liftoff-only',
      '--no-opt',
      '--semi-space-growth-factor=1',
      ...(hasMaglev() ? ['--no-maglev'] : []),
    ]);
    const bench = (await import(benchFlagsUrl)) as { readonly CLI_V8_FLAGS: readonly string[] };
    expect(bench.CLI_V8_FLAGS).toEqual(loaderFlags);
  });

  it('leave Maglev nothing to compile: set where this Node has it, not needed where it has not', () => {
    if (!hasMaglev()) {
      // Node 20 and 22: V8 built without Maglev compiles nothing with it, so no flag is set.
      expect(maglevCompiles([])).toBe(0);
      return;
    }
    // Node 24: a hot function goes to Maglev; with the flags set at run time, as bin.ts sets them,
    // none does; what `ghcr serve` sets back turns it on again.
    expect(maglevCompiles([])).toBeGreaterThan(0);
    expect(maglevCompiles(loaderFlags)).toBe(0);
    expect(
      maglevCompiles([...loaderFlags, ...shortCommandV8Flags().map(({ restore }) => restore)]),
    ).toBeGreaterThan(0);
  });

  it('keep the young generation at its first size when set after start, as bin.ts sets them', () => {
    const withFlags = youngGenerationBytes(loaderFlags);
    const without = youngGenerationBytes([]);
    // One semi-space of 1 MiB and its twin; without the flags, V8 doubles it as objects survive.
    expect(withFlags).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(without).toBeGreaterThanOrEqual(4 * withFlags);
    // What `ghcr serve` sets back lets the young generation grow again.
    const restored = youngGenerationBytes([
      ...loaderFlags,
      ...shortCommandV8Flags().map(({ restore }) => restore),
    ]);
    expect(restored).toBeGreaterThanOrEqual(4 * withFlags);
  });
});
