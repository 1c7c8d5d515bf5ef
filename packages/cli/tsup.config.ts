import { defineConfig } from 'tsup';
import {
  buildUndiciFile,
  commanderSpawnOnUse,
  lazyCommonJs,
  REQUIRE_BANNER,
  UNDICI_FILE,
  undiciBeside,
  undiciSlim,
  undiciWithoutHttp2,
  workspaceSources,
  zodEnglishOnly,
} from './build/bundle-plugins.mjs';
import { writeCommonJsCopies } from './build/commonjs-copies.mjs';
import { buildLauncher } from './build/launcher.mjs';

/**
 * One bundled build, so that `npm i -g @ghcr/cli` installs the CLI and nothing else (no runtime
 * dependency: the workspace packages, zod, undici, commander… are in the bundle, and npm installs
 * none of them a second time):
 * - `start`: the `ghcr` executable, a bundle (start.js and the chunks it imports) behind a small
 *   loader, `bin.cjs` (src/bin.ts built as CommonJS on its own: build/launcher.mjs). Each
 *   command is a new process, and start-up is a large part of a short command: resolving and
 *   linking zod's ~200 modules and the workspace packages one by one cost ~0.15 s of CPU and ~9 MiB
 *   per process (docs/benchmarks.md). Bundled, they are parsed once.
 * - `index`: the programmatic `run(argv, io)`, sharing the bundle's chunks. Its declarations name
 *   the library packages' types (GhcrClient, RetentionReport…), optional peer dependencies.
 * The workspace packages are bundled from their TypeScript sources (`workspaceSources`), and the
 * commands import `@ghcr/client/core`: the capabilities the client loads on first use (signatures
 * with Sigstore's verifier, vulnerability reports and the gate, sync with YAML and semver) are then
 * chunks no command parses unless it calls them.
 * The chunks (`lazy-*.js`) hold the code the entries share, and, each in its own, what a command
 * loads only on request (parsed only when needed):
 * the simulation with msw's request handling for `ghcr serve` (msw's browser worker, CLI and
 * GraphQL are never imported, so they are not in it), the gh hosts.yml parser, the signature
 * verifier. undici is in `undici.cjs`, a CommonJS file beside the chunks that is required the
 * first time undici is used: every request of a command, token requests included, goes out on the
 * transport's own connections, so only `ghcr serve` (the simulation's dispatcher) loads it. @opentelemetry/api is bundled too (its copies share one global registration), so a
 * library that imports it needs nothing installed; prom-client stays an import, which the transport
 * requires only when metrics are asked for, as the CLI never does. No source maps: a map of this bundle is a map of its dependencies (4 MB of them).
 * esbuild keeps the `#!/usr/bin/env node` line at the top. ESM bundles of CommonJS dependencies
 * (undici, commander) call `require` for built-ins, which an ES module lacks: the banner defines one.
 */
export default defineConfig([
  {
    // bin.cjs (built in onSuccess) loads start.cjs, the bundle's CommonJS copy
    // (`writeCommonJsCopies`), with a code cache of its own (src/code-cache.ts); start.js and the
    // ES module chunks serve `index.js`, the programmatic entry point.
    entry: { index: 'src/index.ts', start: 'src/start.ts' },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    sourcemap: false,
    clean: true,
    splitting: true,
    // Whitespace and syntax only: identifiers keep their names (error classes, stack traces).
    esbuildOptions(options) {
      options.chunkNames = 'lazy-[name]-[hash]';
      options.minifyWhitespace = true;
      options.minifySyntax = true;
    },
    // The declarations name the library packages' types (GhcrClient, RetentionReport…): those are
    // optional peer dependencies, for a TypeScript program that calls run() (npm installs none).
    dts: { entry: { index: 'src/index.ts' } },
    // msw imports graphql only to parse a GraphQL request, which the simulation never serves.
    external: ['graphql'],
    // Everything but these (tsup's `external` does not override `noExternal`).
    noExternal: [/^(?!(?:vitest|graphql|prom-client)(?:\/|$))/],
    esbuildPlugins: [
      workspaceSources,
      undiciBeside,
      undiciSlim,
      undiciWithoutHttp2,
      zodEnglishOnly,
      lazyCommonJs(),
      commanderSpawnOnUse,
    ],
    banner: {
      js: REQUIRE_BANNER,
    },
    // undici in a file of its own beside the chunks, required on first use (`undiciBeside`); the
    // CommonJS copy of the bundle; and the executable, the launcher in front of it.
    onSuccess: async () => {
      await buildUndiciFile(`dist/${UNDICI_FILE}`);
      await writeCommonJsCopies('dist');
      await buildLauncher('src/bin.ts', 'dist/bin.cjs');
    },
  },
]);
