import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the programmatic run(argv, io); bin: the `ghcr` executable. esbuild keeps the
  // `#!/usr/bin/env node` line at the top of src/bin.ts in dist/bin.js.
  entry: ['src/index.ts', 'src/bin.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['vitest', 'msw'],
});
