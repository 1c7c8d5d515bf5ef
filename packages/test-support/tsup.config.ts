import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the harness (plain Node, usable from the .mjs benchmarks); vitest: describe/hook helpers.
  entry: ['src/index.ts', 'src/vitest.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['vitest', 'msw'],
});
