import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUIRE_BANNER } from '../build/bundle-plugins.mjs';
import { commonJsCopy, writeCommonJsCopies } from '../build/commonjs-copies.mjs';
import { createCommonJsLoader } from './code-cache.js';

// The CommonJS copy of the executable's bundle (build/commonjs-copies.mjs), which Node 20 loads
// with code-cache.ts: a small program bundled as the executable is (ES modules, split into
// chunks, the require banner), copied, and run both ways.

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-commonjs-copies-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

const SOURCES: Record<string, string> = {
  'start.ts': `import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { count, Counter } from './shared.ts';
export async function start() {
  const lazy = await import('./lazy.ts');
  const again = await import('./lazy.ts');
  const manifest = createRequire(import.meta.url)('../package.json');
  return {
    file: basename(new URL(import.meta.url).pathname).replace(/\\.c?js$/, ''),
    manifest: manifest.name,
    lazy: lazy.twice(21),
    sameLazy: lazy === again || lazy.twice === again.twice,
    shared: [count(), lazy.countFromLazy(), count()],
    classes: new Counter() instanceof lazy.CounterSeenByLazy,
    strict: (function () { return this; })() === undefined,
    text: 'caf\\u00e9 \\u00b5s',
  };
}
`,
  'shared.ts': `let n = 0;
export const count = () => ++n;
export class Counter {}
`,
  'lazy.ts': `import { count, Counter } from './shared.ts';
export const twice = (x: number) => x * 2;
export const countFromLazy = () => count();
export const CounterSeenByLazy = Counter;
`,
};

/** The program of {@link SOURCES}, bundled as tsup.config.ts bundles the executable, into `out`. */
async function bundle(out: string): Promise<void> {
  const sources = join(directory, 'sources');
  await mkdir(sources, { recursive: true });
  for (const [name, text] of Object.entries(SOURCES)) await writeFile(join(sources, name), text);
  await build({
    entryPoints: { start: join(sources, 'start.ts'), index: join(sources, 'shared.ts') },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: out,
    chunkNames: 'lazy-[name]-[hash]',
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: REQUIRE_BANNER },
    logLevel: 'silent',
  });
  // `../package.json` of the files in `out`, as the executable's version is read.
  await writeFile(join(out, '..', 'package.json'), JSON.stringify({ name: 'copied', type: 'module' }));
}

describe('writeCommonJsCopies', () => {
  it('writes a copy that runs as the ES modules do, sharing one instance of each chunk', async () => {
    const out = join(directory, 'program', 'dist');
    await bundle(out);
    const written = await writeCommonJsCopies(out);
    const files = await readdir(out);
    // Every file but index.js has its copy beside it.
    const modules = files.filter((file) => file.endsWith('.js') && file !== 'index.js');
    expect(modules.length).toBeGreaterThan(2);
    expect(written).toEqual(modules.map((file) => file.replace(/\.js$/, '.cjs')).sort());
    expect(files).not.toContain('index.cjs');

    const fromModules = await (
      (await import(pathToFileURL(join(out, 'start.js')).href)) as { start: () => Promise<unknown> }
    ).start();
    const loader = createCommonJsLoader();
    const fromCopy = await (loader.load(join(out, 'start.cjs')) as { start: () => Promise<unknown> }).start();
    // Node's own require() (the executable's loader on Node >= 22.1) runs the copy the same way,
    // strict mode included.
    const fromRequire = await (
      createRequire(import.meta.url)(join(out, 'start.cjs')) as { start: () => Promise<unknown> }
    ).start();
    expect(fromModules).toEqual({
      file: 'start',
      manifest: 'copied',
      lazy: 42,
      sameLazy: true,
      shared: [1, 2, 3],
      classes: true,
      strict: true,
      text: 'café µs',
    });
    expect(fromCopy).toEqual(fromModules);
    expect(fromRequire).toEqual(fromModules);
    // The dynamic import loaded the lazy chunk into the same set of modules: no second instance
    // of the shared chunk (its counter went on from the copy's own start).
    expect([...loader.compiled.keys()].filter((file) => file.includes('lazy-lazy'))).toHaveLength(1);
    for (const written of await readdir(out)) {
      if (written.endsWith('.cjs')) {
        expect(
          (await readFile(join(out, written))).some((byte) => byte > 0x7f),
          written,
        ).toBe(false);
      }
    }
  });
});

describe('commonJsCopy', () => {
  const chunk = (body: string): string => `${REQUIRE_BANNER}\n${body}`;

  it('refuses what would behave differently as CommonJS, naming the file and what to do', async () => {
    await expect(commonJsCopy('export const x = 1;', 'a.js')).rejects.toThrow(
      /a\.js: expected the bundle's require banner at the start/,
    );
    await expect(commonJsCopy(chunk('await Promise.resolve(); export const x = 1;'), 'b.js')).rejects.toThrow(
      /Top-level await/,
    );
    await expect(commonJsCopy(chunk('export const d = import.meta.dirname;'), 'c.js')).rejects.toThrow(
      /c\.js: esbuild warned while making the CommonJS copy/,
    );
    await expect(commonJsCopy(chunk('export const unit = /(ms|µs)/;'), 'd.js')).rejects.toThrow(
      /d\.js: the CommonJS copy holds a character outside ASCII .*write it as an escape in the source/,
    );
  });

  it('turns imports, dynamic imports and import.meta.url into their CommonJS forms', async () => {
    const copied = await commonJsCopy(
      chunk(
        'import { a } from "./lazy-chunk-A.js"; export const load = () => import("./lazy-b-B.js"); export const url = import.meta.url; export { a };',
      ),
      'e.js',
    );
    expect(copied).toContain('require("./lazy-chunk-A.cjs")');
    expect(copied).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>__toESM\(require\("\.\/lazy-b-B\.cjs"\)\)\)/);
    expect(copied).not.toMatch(/\bimport\(|import\.meta|\.js"/);
    expect(
      copied.startsWith('"use strict";var __ghcrFileUrl=require("node:url").pathToFileURL(__filename).href;'),
    ).toBe(true);
  });
});
