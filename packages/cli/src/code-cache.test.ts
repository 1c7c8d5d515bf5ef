import {
  chmodSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeCacheDirectory,
  createCommonJsLoader,
  markBuildCachesUsed,
  removeUnusedBuildCaches,
} from './code-cache.js';

// The loader of the executable's CommonJS copy (code-cache.ts), on files as
// build/commonjs-copies.mjs writes them: `require('./lazy-x.cjs')` of a file of the copy, dynamic
// imports turned into a require inside a promise, Node's built-ins and other files (`undici.cjs`
// among them) through Node's require.

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ghcr-code-cache-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES: Record<string, string> = {
  'start.cjs': `var counter = require("./lazy-counter.cjs");
var again = require("./lazy-counter.cjs");
var path = require("node:path");
var data = require("./data.json");
var undici = require("./undici.cjs");
exports.start = () => ({
  same: counter === again,
  count: counter.next(),
  later: Promise.resolve().then(() => require("./lazy-later.cjs")).then((later) => later.value(counter)),
  strict: (function () { return this; })() === undefined,
  file: path.basename(__filename),
  data: data.name,
  undiciStrict: undici.strict,
});
`,
  'lazy-counter.cjs': `var n = 0;
globalThis.__ghcrCodeCacheRuns = (globalThis.__ghcrCodeCacheRuns ?? 0) + 1;
exports.next = () => ++n;
`,
  // Requires the file that is still running it: gets its exports so far, as Node's require gives.
  'lazy-later.cjs': `var counter = require("./lazy-counter.cjs");
exports.value = (given) => ({ shared: given === counter, count: counter.next() });
`,
  'data.json': '{"name":"beside"}',
  // Not a file of the copy (undici's own CommonJS): Node loads it, in sloppy mode as it was written.
  'undici.cjs': `exports.strict = (function () { return this; })() === undefined;
`,
};

/** A directory holding {@link FILES}; a new one each call, so V8 sees new scripts. */
function copy(name: string): string {
  const directory = join(root, name);
  mkdirSync(directory, { recursive: true });
  for (const [file, text] of Object.entries(FILES)) writeFileSync(join(directory, file), text);
  return directory;
}

interface Started {
  same: boolean;
  count: number;
  later: Promise<{ shared: boolean; count: number }>;
  strict: boolean;
  file: string;
  data: string;
  undiciStrict: boolean;
}

function startOf(exports: unknown): Started {
  return (exports as { start: () => Started }).start();
}

/** The names of the compiled-from outcomes, by file name, in load order. */
function outcomes(compiled: ReadonlyMap<string, string>): [string, string][] {
  return [...compiled].map(([file, from]) => [file.slice(file.lastIndexOf('/') + 1), from]);
}

/** {@link outcomes} when the three files {@link FILES} runs were all compiled `from` one way, in load order. */
function allFrom(from: string): [string, string][] {
  return ['start.cjs', 'lazy-counter.cjs', 'lazy-later.cjs'].map((file) => [file, from]);
}

describe('createCommonJsLoader', () => {
  it('runs each file of the copy once, and hands the rest to Node', async () => {
    const directory = copy('plain');
    const before = (globalThis as { __ghcrCodeCacheRuns?: number }).__ghcrCodeCacheRuns ?? 0;
    const loader = createCommonJsLoader();
    const started = startOf(loader.load(join(directory, 'start.cjs')));
    expect(started).toMatchObject({
      same: true,
      count: 1,
      strict: true,
      file: 'start.cjs',
      data: 'beside',
      undiciStrict: false,
    });
    expect(await started.later).toEqual({ shared: true, count: 2 });
    expect((globalThis as { __ghcrCodeCacheRuns?: number }).__ghcrCodeCacheRuns).toBe(before + 1);
    // No cache directory given: every file compiled from its source, nothing written.
    expect(outcomes(loader.compiled)).toEqual(allFrom('source'));
  });

  it('writes each file’s code to the cache, and a later loader compiles from it', async () => {
    const cache = join(root, 'cache-a');
    const first = createCommonJsLoader({ cacheDirectory: cache });
    await startOf(first.load(join(copy('first'), 'start.cjs'))).later;
    expect(outcomes(first.compiled)).toEqual(allFrom('source, cached'));
    // Nothing until the run asks.
    expect(readdirSync(cache)).toEqual([]);
    first.writeCaches();
    expect(readdirSync(cache).sort()).toEqual([
      'lazy-counter.cjs.v8-cache',
      'lazy-later.cjs.v8-cache',
      'start.cjs.v8-cache',
    ]);
    // Only this user can read or write them.
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    for (const file of readdirSync(cache)) expect(statSync(join(cache, file)).mode & 0o777).toBe(0o600);

    // The same files in another directory (new scripts to V8), the same cache.
    const second = createCommonJsLoader({ cacheDirectory: cache });
    const started = startOf(second.load(join(copy('second'), 'start.cjs')));
    expect(await started.later).toEqual({ shared: true, count: 2 });
    expect(outcomes(second.compiled)).toEqual(allFrom('cache'));
    // A file read from its cache is not written again.
    const written = statSync(join(cache, 'start.cjs.v8-cache')).mtimeMs;
    second.writeCaches();
    expect(statSync(join(cache, 'start.cjs.v8-cache')).mtimeMs).toBe(written);
  });

  it('writes what V8 compiled for a file by the time the run asks, not only its top level', async () => {
    // A function the top level does not run: compiled only when called.
    const body = Array.from({ length: 200 }, (_, i) => `  total += (n * ${i + 1}) % ${i + 7};`).join('\n');
    const files = {
      'start.cjs': `exports.start = () => ({ later: Promise.resolve() });\nexports.work = function work(n) {\n  let total = 0;\n${body}\n  return total;\n};\n`,
    };
    const sizeAfter = (name: string, call: boolean): number => {
      const directory = join(root, name);
      mkdirSync(directory, { recursive: true });
      for (const [file, text] of Object.entries(files)) writeFileSync(join(directory, file), text);
      const cache = join(root, `${name}-cache`);
      const loader = createCommonJsLoader({ cacheDirectory: cache });
      const loaded = loader.load(join(directory, 'start.cjs')) as { work: (n: number) => number };
      if (call) expect(loaded.work(3)).toBeGreaterThan(0);
      loader.writeCaches();
      return statSync(join(cache, 'start.cjs.v8-cache')).size;
    };
    expect(sizeAfter('work-called', true)).toBeGreaterThan(sizeAfter('work-not-called', false) + 500);
  });

  it('reads files of any size, one after another, each whole: sources and caches alike', () => {
    // The loader reads every file into one buffer it reuses (1 MiB at first): a file larger than
    // that, then smaller ones, each source and each cache read over what the one before left.
    const big = 'abcdefghij'.repeat(150_000); // 1.5 MB of source
    const files = {
      'start.cjs': `var big = require("./lazy-big.cjs");\nvar small = require("./lazy-small.cjs");\nexports.start = () => ({ big: big.text, small: small.text });\n`,
      'lazy-big.cjs': `exports.text = "${big}";\n`,
      'lazy-small.cjs': `exports.text = "small";\n`,
    };
    const run = (name: string, cache: string) => {
      const directory = join(root, name);
      mkdirSync(directory, { recursive: true });
      for (const [file, text] of Object.entries(files)) writeFileSync(join(directory, file), text);
      const loader = createCommonJsLoader({ cacheDirectory: cache });
      const started = (
        loader.load(join(directory, 'start.cjs')) as { start: () => { big: string; small: string } }
      ).start();
      loader.writeCaches();
      return { started, compiled: outcomes(loader.compiled) };
    };
    const cache = join(root, 'cache-sizes');
    const order = ['start.cjs', 'lazy-big.cjs', 'lazy-small.cjs'];
    const first = run('sizes-first', cache);
    expect(first.compiled).toEqual(order.map((file) => [file, 'source, cached']));
    expect(statSync(join(cache, 'lazy-big.cjs.v8-cache')).size).toBeGreaterThan(0);
    const second = run('sizes-second', cache);
    // Every cache accepted: each was read whole, not over-written by the file read after it.
    expect(second.compiled).toEqual(order.map((file) => [file, 'cache']));
    for (const { started } of [first, second]) {
      expect(started.big).toBe(big);
      expect(started.small).toBe('small');
    }
  });

  it('compiles from the source when V8 rejects a cache, and writes it again', async () => {
    const cache = join(root, 'cache-b');
    mkdirSync(cache, { mode: 0o700 });
    const garbage = Buffer.from('not a code cache at all, but long enough to look like one '.repeat(4));
    writeFileSync(join(cache, 'start.cjs.v8-cache'), garbage);
    const loader = createCommonJsLoader({ cacheDirectory: cache });
    await startOf(loader.load(join(copy('rejected'), 'start.cjs'))).later;
    loader.writeCaches();
    expect(loader.compiled.get(join(root, 'rejected', 'start.cjs'))).toBe('source, cache rejected');
    expect(readFileSync(join(cache, 'start.cjs.v8-cache')).equals(garbage)).toBe(false);
    // No temporary file left behind.
    expect(readdirSync(cache).filter((file) => file.endsWith('.tmp'))).toEqual([]);

    const next = createCommonJsLoader({ cacheDirectory: cache });
    await startOf(next.load(join(copy('rejected-next'), 'start.cjs'))).later;
    expect(next.compiled.get(join(root, 'rejected-next', 'start.cjs'))).toBe('cache');
  });

  it('neither reads nor writes a cache in a directory others can write to', async () => {
    const cache = join(root, 'cache-shared');
    mkdirSync(cache);
    chmodSync(cache, 0o777);
    // A cache planted there is not run: had it been read, V8 would have rejected it, and the
    // loader would have written its own over it.
    const planted = Buffer.from('planted');
    writeFileSync(join(cache, 'start.cjs.v8-cache'), planted);
    const loader = createCommonJsLoader({ cacheDirectory: cache });
    await startOf(loader.load(join(copy('shared'), 'start.cjs'))).later;
    loader.writeCaches();
    expect(new Set(loader.compiled.values())).toEqual(new Set(['source']));
    expect(readdirSync(cache)).toEqual(['start.cjs.v8-cache']);
    expect(readFileSync(join(cache, 'start.cjs.v8-cache')).equals(planted)).toBe(true);
  });

  it('uses no directory below one others can write to, unless that one is sticky', async () => {
    const open = join(root, 'open-parent');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const below = createCommonJsLoader({ cacheDirectory: join(open, 'cache') });
    await startOf(below.load(join(copy('below-open'), 'start.cjs'))).later;
    below.writeCaches();
    expect(new Set(below.compiled.values())).toEqual(new Set(['source']));
    expect(readdirSync(join(open, 'cache'))).toEqual([]);

    // Sticky, as /tmp is: no one else can rename or remove what this user made in it.
    chmodSync(open, 0o1777);
    const sticky = createCommonJsLoader({ cacheDirectory: join(open, 'cache') });
    await startOf(sticky.load(join(copy('below-sticky'), 'start.cjs'))).later;
    sticky.writeCaches();
    expect(new Set(sticky.compiled.values())).toEqual(new Set(['source, cached']));
    expect(readdirSync(join(open, 'cache'))).toHaveLength(3);
  });

  it('runs without a cache where the directory cannot be made', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const loader = createCommonJsLoader({ cacheDirectory: join(blocker, 'cache') });
    const started = startOf(loader.load(join(copy('blocked'), 'start.cjs')));
    expect(await started.later).toEqual({ shared: true, count: 2 });
    expect(new Set(loader.compiled.values())).toEqual(new Set(['source']));
  });

  it('throws the file’s own error when a file fails to run', () => {
    const directory = copy('throws');
    writeFileSync(join(directory, 'start.cjs'), 'require("./lazy-missing.cjs");');
    const loader = createCommonJsLoader();
    expect(() => loader.load(join(directory, 'start.cjs'))).toThrow(/lazy-missing\.cjs/);
    // Not kept as loaded, as Node's require() forgets a module that threw: it fails again.
    expect(() => loader.load(join(directory, 'start.cjs'))).toThrow(/lazy-missing\.cjs/);
  });
});

describe('codeCacheDirectory', () => {
  it('follows Node’s settings for its compile cache, one directory per build, Node and command', () => {
    const entry = 'require("./lazy-chunk-ABC.js");';
    const underTemp = codeCacheDirectory({}, entry, 'tags');
    expect(underTemp).toMatch(
      new RegExp(
        `^${join(tmpdir(), 'node-compile-cache')}/ghcr-cli-${process.version.replaceAll('.', '\\.')}-${process.arch}-[0-9a-f]{16}/tags$`,
      ),
    );
    const build = dirname(underTemp ?? '');
    expect(codeCacheDirectory({ NODE_COMPILE_CACHE: '/var/cache/node' }, entry, 'tags')).toBe(
      join('/var/cache/node', basename(build), 'tags'),
    );
    // Another command, none, or something that is no command's name: beside it.
    expect(codeCacheDirectory({}, entry, 'push')).toBe(join(build, 'push'));
    expect(codeCacheDirectory({}, entry)).toBe(join(build, 'other'));
    expect(codeCacheDirectory({}, entry, '../../etc')).toBe(join(build, 'other'));
    // Another build (its entry names other chunks): another directory.
    expect(codeCacheDirectory({}, 'require("./lazy-chunk-XYZ.js");', 'tags')).not.toBe(underTemp);
    expect(codeCacheDirectory({ NODE_DISABLE_COMPILE_CACHE: '1' }, entry, 'tags')).toBeUndefined();
    expect(
      codeCacheDirectory({ NODE_DISABLE_COMPILE_CACHE: '', NODE_COMPILE_CACHE: '' }, entry, 'tags'),
    ).toBe(underTemp);
  });
});

describe('the caches of other builds', () => {
  const DAY = 24 * 60 * 60 * 1000;
  const NOW = Date.parse('2026-12-08T12:00:00Z');
  /** Makes `path` a directory (with one file) last modified `age` before {@link NOW}. */
  function aged(path: string, age: number): string {
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, 'x.v8-cache'), 'cache');
    const when = new Date(NOW - age);
    utimesSync(path, when, when);
    return path;
  }

  it('marks a build used at most once a day', () => {
    const base = join(root, 'mark');
    const build = aged(join(base, 'ghcr-cli-v-a'), 3 * DAY);
    const command = join(build, 'copy');
    mkdirSync(command);
    utimesSync(build, new Date(NOW - 3 * DAY), new Date(NOW - 3 * DAY));
    markBuildCachesUsed(command, NOW);
    expect(statSync(build).mtimeMs).toBe(NOW);
    // Marked an hour ago: left as it is.
    utimesSync(build, new Date(NOW - 3600_000), new Date(NOW - 3600_000));
    markBuildCachesUsed(command, NOW);
    expect(statSync(build).mtimeMs).toBe(NOW - 3600_000);
    // Nothing there: nothing happens, nothing is thrown.
    expect(() => markBuildCachesUsed(join(base, 'ghcr-cli-gone', 'copy'), NOW)).not.toThrow();
  });

  it('removes only other builds’ caches of this user unused for a week, never through a link', () => {
    const base = join(root, 'prune');
    const current = aged(join(base, 'ghcr-cli-current'), 30 * DAY);
    const command = join(current, 'copy');
    mkdirSync(command);
    const old = aged(join(base, 'ghcr-cli-old'), 8 * DAY);
    aged(join(old, 'tags'), 8 * DAY);
    utimesSync(old, new Date(NOW - 8 * DAY), new Date(NOW - 8 * DAY));
    aged(join(base, 'ghcr-cli-recent'), 6 * DAY);
    aged(join(base, 'other-tool'), 30 * DAY);
    writeFileSync(join(base, 'ghcr-cli-a-file'), 'not a directory');
    const elsewhere = aged(join(root, 'prune-elsewhere'), 30 * DAY);
    symlinkSync(elsewhere, join(base, 'ghcr-cli-link'));
    lutimesSync(join(base, 'ghcr-cli-link'), new Date(NOW - 30 * DAY), new Date(NOW - 30 * DAY));

    // Owned by someone else (as far as this call knows): nothing removed.
    const uid = statSync(old).uid;
    removeUnusedBuildCaches(command, NOW, uid + 1);
    expect(readdirSync(base).sort()).toEqual([
      'ghcr-cli-a-file',
      'ghcr-cli-current',
      'ghcr-cli-link',
      'ghcr-cli-old',
      'ghcr-cli-recent',
      'other-tool',
    ]);
    removeUnusedBuildCaches(command, NOW, uid);
    // The old build's directory is gone; the running build's (however old), the recent one,
    // another tool's, a file and a link stay, and so does what the link points to.
    expect(readdirSync(base).sort()).toEqual([
      'ghcr-cli-a-file',
      'ghcr-cli-current',
      'ghcr-cli-link',
      'ghcr-cli-recent',
      'other-tool',
    ]);
    expect(readdirSync(elsewhere)).toEqual(['x.v8-cache']);
    expect(readdirSync(current).sort()).toEqual(['copy', 'x.v8-cache']);
  });

  it('reports how many caches a loader wrote, and where it keeps them', async () => {
    const cache = join(root, 'cache-count');
    const first = createCommonJsLoader({ cacheDirectory: cache });
    await startOf(first.load(join(copy('count-first'), 'start.cjs'))).later;
    expect(first.cacheDirectory).toBe(realpathSync(cache));
    expect(first.writeCaches()).toBe(3);
    expect(first.writeCaches()).toBe(0);
    const second = createCommonJsLoader({ cacheDirectory: cache });
    await startOf(second.load(join(copy('count-second'), 'start.cjs'))).later;
    // Every file from its cache: nothing to write, so the executable removes nothing either.
    expect(second.writeCaches()).toBe(0);
    expect(createCommonJsLoader().cacheDirectory).toBeUndefined();
  });
});
