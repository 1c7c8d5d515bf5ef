import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SHORT_COMMAND_V8_FLAGS } from './v8-settings.js';

// The executable's loader (bin.ts) sets V8 flags as the process starts: `--liftoff-only` itself,
// then the short command's settings (v8-settings.ts). These tests check that the bench's Node
// programs use the same flags, and, on the Node running the tests, that the young-generation
// setting takes effect when set at run time and that `ghcr serve`'s restore undoes it.

const loader = readFileSync(new URL('./bin.ts', import.meta.url), 'utf8');
const benchFlags = readFileSync(new URL('../../../bench/lib/v8-flags.mjs', import.meta.url), 'utf8');

/** The flags bin.ts sets, in order. */
const loaderFlags = [
  ...[...loader.matchAll(/v8\.setFlagsFromString\('([^']+)'\)/g)].map((match) => match[1] ?? ''),
  ...(loader.includes('useShortCommandV8Settings();') ? SHORT_COMMAND_V8_FLAGS.map(({ set }) => set) : []),
];

/** The size of V8's young generation (both semi-spaces) after a script keeps 300,000 objects alive. */
function youngGenerationBytes(flags: readonly string[]): number {
  const script = [
    "const v8 = require('node:v8');",
    ...flags.map((flag) => `v8.setFlagsFromString(${JSON.stringify(flag)});`),
    'const kept = [];',
    "for (let i = 0; i < 300000; i++) kept.push({ i, text: 'x' + i });",
    "const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');",
    // Read after the sizes, so every object is still alive when they are taken.
    'if (kept.length !== 300000) process.exit(3);',
    'process.stdout.write(String(space.space_size));',
  ].join('\n');
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  return Number(child.stdout);
}

describe('the executable loader’s V8 flags', () => {
  it('are the ones the bench runs its Node programs with', () => {
    expect(loaderFlags).toEqual(['--liftoff-only', '--no-opt', '--semi-space-growth-factor=1']);
    const listed = /CLI_V8_FLAGS = \[([^\]]*)\]/.exec(benchFlags)?.[1];
    expect(listed?.split(',').map((flag) => flag.trim().replaceAll("'", ''))).toEqual(loaderFlags);
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
      ...SHORT_COMMAND_V8_FLAGS.map(({ restore }) => restore),
    ]);
    expect(restored).toBeGreaterThanOrEqual(4 * withFlags);
  });
});
