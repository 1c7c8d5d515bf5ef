import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

/**
 * Two builds:
 * - `index`: the programmatic `run(argv, io)`, with its dependencies as imports, like every
 *   library package.
 * - `bin` + `main`: the `ghcr` executable, one bundled file (main.js) behind a small loader. Each command is a new process, and start-up is a
 *   large part of a short command: resolving and linking zod's ~200 modules and the workspace
 *   packages one by one cost ~0.15 s of CPU and ~9 MiB per process (docs/benchmarks.md). Bundled,
 *   they are parsed once. What a command loads only on request stays an import: the simulation
 *   (`ghcr serve`, with msw) and the optional observability peers. esbuild keeps the
 *   `#!/usr/bin/env node` line at the top. ESM bundles of CommonJS dependencies (undici, commander)
 *   call `require` for built-ins, which an ES module lacks: the banner defines one.
 */
export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    dts: { entry: 'src/index.ts' },
    sourcemap: true,
    // Each build cleans only its own files: the two run side by side.
    clean: ['index.*'],
    target: 'node20',
    external: ['vitest', 'msw'],
  },
  {
    // bin.js turns on Node's compile cache, then imports main.js (the bundle) as a file of its own.
    entry: { bin: 'src/bin.ts', main: 'src/main.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    clean: ['bin.*', 'main.*', 'lazy-*'],
    // What is imported on demand (the gh hosts.yml parser) becomes a chunk of its own, parsed only
    // when needed.
    splitting: true,
    // Whitespace and syntax only: identifiers keep their names (error classes, stack traces).
    esbuildOptions(options) {
      options.chunkNames = 'lazy-[name]-[hash]';
      options.minifyWhitespace = true;
      options.minifySyntax = true;
    },
    dts: false,
    // Everything but these (tsup's `external` does not override `noExternal`).
    noExternal: [/^(?!(?:@ghcr\/simulation|msw|vitest|prom-client|@opentelemetry\/api)(?:\/|$))/],
    esbuildPlugins: [
      {
        name: 'ghcr-bin-loads-main',
        setup(build) {
          build.onResolve({ filter: /^\.\/main\.js$/ }, (args) => ({ path: args.path, external: true }));
        },
      },
      {
        name: 'ghcr-undici-slim',
        setup(build) {
          build.onResolve({ filter: /^undici$/ }, () => ({
            path: fileURLToPath(new URL('./build/undici-slim.cjs', import.meta.url)),
          }));
        },
      },
    ],
    banner: {
      js: "import { createRequire as __ghcrCreateRequire } from 'node:module'; const require = __ghcrCreateRequire(import.meta.url);",
    },
  },
]);
