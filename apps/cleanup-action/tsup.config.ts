import { defineConfig, type Options } from 'tsup';
import {
  lazyCommonJs,
  REQUIRE_BANNER,
  undiciSlim,
  undiciWithoutHttp2,
  workspaceSources,
  zodEnglishOnly,
} from '../../packages/cli/build/bundle-plugins.mjs';

/**
 * The action ships as ONE file, as the runner executes it (`runs: using: node24, main:
 * dist/index.js`): no node_modules next to it. The file is committed (a workflow's `uses:` runs the
 * repository as it is), so it is minified, has no source map, and is deterministic: the same
 * sources give the same bytes, which `.ci/run` checks by rebuilding it. It is built with the
 * `ghcr` executable's bundle plugins (packages/cli/build/bundle-plugins.mjs): undici's Agent and
 * `request` only, HTTP/1.1 only, zod's English messages only, and the CommonJS dependencies only
 * some runs use (YAML, semver, Sigstore) loaded when first used. Everything is bundled (`noExternal`); only Node's
 * built-in modules stay imports. The workspace packages are bundled from their TypeScript sources
 * (not their dist/), so the bundle is always built from the same commit's code, with no build order
 * to get wrong. ESM bundles of CommonJS dependencies (undici) call `require` for built-ins, which an
 * ES module lacks: the banner defines one.
 */
export const bundleOptions: Options = {
  entry: { index: 'src/main.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  noExternal: [/.*/],
  splitting: false,
  sourcemap: false,
  minify: true,
  clean: true,
  dts: false,
  banner: {
    js: REQUIRE_BANNER,
  },
  esbuildPlugins: [workspaceSources, undiciSlim, undiciWithoutHttp2, zodEnglishOnly, lazyCommonJs()],
};

export default defineConfig(bundleOptions);
