// The `ghcr` executable's CommonJS copy.
//
// Compiling the bundle is the largest single cost of a short command's start (docs/benchmarks.md,
// "Issue 18, thirteenth round"). V8 can cache the code of a `vm.Script`, so the build also writes
// each of the bundle's files as CommonJS (`start.js` → `start.cjs`, `lazy-chunk-….js` →
// `lazy-chunk-….cjs`, beside them): the same code, the same chunks, turned into CommonJS file by
// file by esbuild, each naming the others by their `.cjs` names. The executable loads them on
// every Node with src/code-cache.ts, which keeps their compiled code (bin.ts says why not Node's
// compile cache); Node's own `require()` runs them the same way.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REQUIRE_BANNER } from './bundle-plugins.mjs';

/** The name of a CommonJS file's own URL in its code: `import.meta.url` of the ES module it was. */
const FILE_URL = '__ghcrFileUrl';

/**
 * esbuild's options for code turned into CommonJS, shared by the bundle's copy and the launcher
 * (build/launcher.mjs): minified as the ES module bundle is (tsup.config.ts: whitespace and syntax
 * only, names kept), ASCII only (the executable's loader reads the files as one-byte text), and
 * `import.meta.url` the file's own URL. `banner` goes first, "use strict" at its start, where a
 * directive counts (esbuild writes none of its own there).
 */
export const COMMONJS_OPTIONS = {
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  define: { 'import.meta.url': FILE_URL },
};

/** The line each CommonJS file starts with (see {@link COMMONJS_OPTIONS}). */
export const COMMONJS_BANNER = `"use strict";var ${FILE_URL}=require("node:url").pathToFileURL(__filename).href;`;

/** A `require()` of another file of the bundle, as esbuild writes an import of it. */
const BUNDLE_REQUIRE = /require\("\.\/([\w.-]+)\.js"\)/g;

/** The bundle's file that is not copied: the programmatic entry point (the loader, bin.cjs, is built apart). */
const NOT_COPIED = new Set(['index.js']);

/**
 * `code` (one file of an ES module bundle built with {@link REQUIRE_BANNER}) as CommonJS, in strict
 * mode as the ES module was: its imports become `require()`s of the copies (`./lazy-chunk-X.js` →
 * `require("./lazy-chunk-X.cjs")`), a dynamic `import()` becomes a `require()` when the promise
 * runs, `import.meta.url` the file's own URL. Throws where the copy could behave differently: a
 * top-level await, a use of `import.meta` that is not `.url`, a character outside ASCII (the
 * loader reads the files as one-byte text).
 */
export async function commonJsCopy(code, name) {
  const { transform } = createRequire(import.meta.url)('esbuild');
  if (!code.startsWith(REQUIRE_BANNER)) {
    throw new Error(
      `${name}: expected the bundle's require banner at the start; is it an ES module chunk of this build?`,
    );
  }
  const result = await transform(code.slice(REQUIRE_BANNER.length), {
    ...COMMONJS_OPTIONS,
    // `import('./x.js')` → `Promise.resolve().then(() => require('./x.js'))`: the chunk loaded
    // into the same set of modules, not a second instance of it through Node's ES module loader.
    supported: { 'dynamic-import': false },
    banner: COMMONJS_BANNER,
    sourcefile: name,
    logLevel: 'silent',
  });
  if (result.warnings.length > 0) {
    throw new Error(
      `${name}: esbuild warned while making the CommonJS copy: ${result.warnings.map((w) => w.text).join('; ')}`,
    );
  }
  const at = firstNonAscii(result.code);
  if (at !== -1) {
    throw new Error(
      `${name}: the CommonJS copy holds a character outside ASCII (${JSON.stringify(result.code.slice(Math.max(0, at - 30), at + 10))}); write it as an escape in the source`,
    );
  }
  // The bundle's files by their copies' names, so that Node's own require() loads the copies.
  return result.code.replace(BUNDLE_REQUIRE, (_, file) => `require("./${file}.cjs")`);
}

/** The index of the first character of `text` outside ASCII, or -1. */
function firstNonAscii(text) {
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0x7f) return index;
  return -1;
}

/**
 * Writes the CommonJS copy of every file of the ES module bundle in `directory` (`x.js` →
 * `x.cjs`) but the programmatic entry point (`index.js`). Returns the names written.
 */
export async function writeCommonJsCopies(directory) {
  const names = (await readdir(directory)).filter((name) => name.endsWith('.js') && !NOT_COPIED.has(name));
  const copies = names.map((name) => ({ name, copy: `${name.slice(0, -'.js'.length)}.cjs` }));
  await Promise.all(
    copies.map(async ({ name, copy }) => {
      const code = await readFile(join(directory, name), 'utf8');
      await writeFile(join(directory, copy), await commonJsCopy(code, name));
    }),
  );
  return copies.map(({ copy }) => copy).sort();
}
