import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

// The `ghcr` executable loads the bundle's CommonJS copy (build/commonjs-copies.mjs) through this
// loader, on every Node: it compiles each file with V8's code cache kept on disk, written when the
// run ends, so that it holds what the command ran. Compiling the bundle was the largest single
// cost of a short command's start on Node 20, which has no compile cache of its own
// (docs/benchmarks.md, "Issue 18, thirteenth round"), and Node's compile cache (Node >= 22.1)
// keeps about half of what this one does (the same, "sixteenth round").

/** How a file of the bundle was compiled. @internal */
export type CompiledFrom =
  /** From the code cache. */
  | 'cache'
  /** From its source; its code goes to the cache at {@link CommonJsLoader.writeCaches} (there was none). */
  | 'source, cached'
  /** From its source: V8 rejected the cache (another V8 or other flags), which is written again. */
  | 'source, cache rejected'
  /** From its source, with no cache to use or write (turned off, or no directory to keep it in). */
  | 'source';

/** What {@link createCommonJsLoader} takes. @internal */
export interface CommonJsLoaderOptions {
  /**
   * Where the compiled code is kept, a directory this loader makes (owner-only) if missing; a
   * directory someone else owns or can write to, or one below a directory others can write to
   * (unless sticky, as the OS temp directory is), is not used. If omitted, nothing is cached.
   */
  readonly cacheDirectory?: string | undefined;
}

/** A loader of the bundle's CommonJS copy. @internal */
export interface CommonJsLoader {
  /** Loads `file` (an absolute path to a `.cjs` file of the copy) and returns its exports. */
  load(file: string): unknown;
  /** How each file loaded so far was compiled, by absolute path, in the order they were loaded. */
  readonly compiled: ReadonlyMap<string, CompiledFrom>;
  /**
   * The directory the caches are read from and written to (its real path), or undefined when
   * none is used (none given, or one that failed the checks of {@link CommonJsLoaderOptions}).
   */
  readonly cacheDirectory: string | undefined;
  /**
   * Writes the cache of each file this loader compiled from its source, with all the code V8 has
   * compiled for it by now: call it as the run ends (the executable does, on a successful exit),
   * so that the cache holds the functions the command ran, not only the files' top levels. A file
   * read from its cache is not written again. Writing twice writes nothing more. Returns how many
   * caches it wrote.
   */
  writeCaches(): number;
}

/**
 * `./lazy-chunk-X.cjs`: another file of the copy, as its `require()`s name them (the chunks are
 * `lazy-*`, tsup.config.ts). `./undici.cjs` is not one: undici is Node's to load.
 */
const BUNDLE_FILE = /^\.\/(?:start|lazy-[\w.-]+)\.cjs$/;

/**
 * A loader for the CommonJS copy of the executable's bundle: each file is compiled as a
 * `vm.Script` with the code V8 cached for it on an earlier run, and run once, as Node's
 * `require()` would (one `module.exports` per file, shared by every file that requires it). A
 * file's `require('./lazy-x.cjs')` loads that file of the copy through this loader too; anything
 * else (Node's built-ins, `../package.json`, `./undici.cjs`) goes to Node's own `require()`.
 *
 * A cache is written when the run asks ({@link CommonJsLoader.writeCaches}), with everything V8
 * compiled for the file by then, to a file of its own beside the others, replaced in one rename, so
 * a process that reads it meanwhile reads the old or the new, never half. V8 checks a cache
 * against its own version, its flags and the source's length, and compiles from the source if
 * they differ; a failure to read or write a cache only costs the compile.
 * @internal
 */
export function createCommonJsLoader(options: CommonJsLoaderOptions = {}): CommonJsLoader {
  const modules = new Map<string, { exports: unknown }>();
  const compiled = new Map<string, CompiledFrom>();
  /** The caches to write: each file compiled from its source, and its script. */
  const pending = new Map<string, Script>();
  const cacheDirectory = usableDirectory(options.cacheDirectory);
  const reader = createFileReader();

  function load(file: string): unknown {
    const known = modules.get(file);
    if (known !== undefined) return known.exports;
    const module = { exports: {} as unknown };
    // Before it runs, as Node's require() does: a file that requires one still running gets its
    // exports so far. Forgotten again if it throws, as there too.
    modules.set(file, module);
    try {
      run(file, module);
    } catch (error) {
      modules.delete(file);
      throw error;
    }
    return module.exports;
  }

  function run(file: string, module: { exports: unknown }): void {
    // One-byte text: the copy is ASCII only (build/commonjs-copies.mjs checks).
    const source = reader.read(file).toString('latin1');
    const cacheFile =
      cacheDirectory === undefined ? undefined : join(cacheDirectory, `${basename(file)}.v8-cache`);
    // Read into the buffer the source was read into: the source is a string by now, and V8 is done
    // with the cache once the script is compiled, before the next file is read.
    const cachedData = cacheFile === undefined ? undefined : reader.readIfPresent(cacheFile);
    // Strict, as the ES module it was made from.
    const script = new Script(
      `(function (exports, require, module, __filename, __dirname) {"use strict";${source}\n})`,
      {
        filename: file,
        ...(cachedData === undefined ? {} : { cachedData }),
      },
    );
    const from: CompiledFrom =
      cacheFile === undefined
        ? 'source'
        : cachedData === undefined
          ? 'source, cached'
          : script.cachedDataRejected === true
            ? 'source, cache rejected'
            : 'cache';
    compiled.set(file, from);
    const nodeRequire = createRequire(file);
    const directory = dirname(file);
    const requireFromFile = (id: string): unknown =>
      BUNDLE_FILE.test(id) ? load(join(directory, id.slice(2))) : nodeRequire(id);
    const wrapper = script.runInThisContext() as (
      exports: unknown,
      require: (id: string) => unknown,
      module: { exports: unknown },
      filename: string,
      dirname: string,
    ) => void;
    wrapper.call(module.exports, module.exports, requireFromFile, module, file, directory);
    if (cacheFile !== undefined && from !== 'cache') pending.set(cacheFile, script);
  }

  function writeCaches(): number {
    let written = 0;
    for (const [cacheFile, script] of pending) if (writeCache(cacheFile, script)) written += 1;
    pending.clear();
    return written;
  }

  return { load, compiled, cacheDirectory, writeCaches };
}

/** Caches a build's runs have not marked for this long are removed by another build's run. */
const UNUSED_BUILD_CACHE_MS = 7 * 24 * 60 * 60 * 1000;

/** How often a run marks its build's caches as used (the directory's modification time). */
const MARK_USED_EVERY_MS = 24 * 60 * 60 * 1000;

/** The name every build's directory of caches starts with (see {@link codeCacheDirectory}). */
const BUILD_DIRECTORY_PREFIX = 'ghcr-cli-';

/**
 * Marks the caches of the build that `cacheDirectory` (a command's directory, as
 * {@link codeCacheDirectory} names it) belongs to as used at `now`: sets its build directory's
 * modification time, at most once a day (one `stat` a run otherwise). A run that reads its caches
 * writes nothing, so without this a build in daily use would look as unused as an uninstalled one.
 * Failures are ignored.
 * @internal
 */
export function markBuildCachesUsed(cacheDirectory: string, now: number): void {
  const build = dirname(cacheDirectory);
  try {
    const { atime, mtimeMs } = statSync(build);
    if (now - mtimeMs >= MARK_USED_EVERY_MS) utimesSync(build, atime, new Date(now));
  } catch {
    // Not marked: at worst another build's run removes these caches, and this one writes them again.
  }
}

/**
 * Removes the caches of other builds of the executable (other versions, other Node versions) that
 * no run has marked as used for {@link UNUSED_BUILD_CACHE_MS}: each build keeps a directory of its
 * own beside `cacheDirectory`'s build (a few MB each), and nothing else would ever remove the
 * directories of the versions a user upgraded from. Only directories named as a build's are
 * touched, only this user's (`uid`, this process's by default; on Windows, where Node gives no
 * owner ids, every one), never through a symbolic link. The executable calls it when a run wrote
 * caches, which is rare (a new build, or a command's first run). Failures are ignored.
 * @internal
 */
export function removeUnusedBuildCaches(
  cacheDirectory: string,
  now: number,
  uid: number | undefined = typeof process.getuid === 'function' ? process.getuid() : undefined,
): void {
  const build = dirname(cacheDirectory);
  const base = dirname(build);
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(BUILD_DIRECTORY_PREFIX) || name === basename(build)) continue;
    const path = join(base, name);
    try {
      const info = lstatSync(path);
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
      if (now - info.mtimeMs < UNUSED_BUILD_CACHE_MS) continue;
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Left for a later run.
    }
  }
}

/**
 * The directory the executable keeps the compiled code of its CommonJS copy in, for the copy
 * whose entry file holds `entrySource`, or undefined where caching is turned off. Node's own
 * settings for its compile cache are honoured: none with `NODE_DISABLE_COMPILE_CACHE` set, under
 * `NODE_COMPILE_CACHE` if set, else under `node-compile-cache` in the OS temp directory (where
 * Node >= 22.1 keeps its own). The directory's name holds this Node's version and architecture and
 * a hash of the entry file, which names every other file of the copy by the hash of its content
 * (esbuild's chunk names): another build or another Node gets a directory of its own. Inside it,
 * each command keeps its own (`command`, else `other`): a cache holds the functions the run that
 * wrote it compiled, and `ghcr tags` runs other code than `ghcr push`.
 * @internal
 */
export function codeCacheDirectory(
  env: NodeJS.ProcessEnv,
  entrySource: string,
  command?: string | undefined,
): string | undefined {
  const disabled = env.NODE_DISABLE_COMPILE_CACHE;
  if (disabled !== undefined && disabled !== '') return undefined;
  const base =
    env.NODE_COMPILE_CACHE === undefined || env.NODE_COMPILE_CACHE === ''
      ? join(tmpdir(), 'node-compile-cache')
      : env.NODE_COMPILE_CACHE;
  const build = createHash('sha256').update(entrySource).digest('hex').slice(0, 16);
  return join(
    base,
    `ghcr-cli-${process.version}-${process.arch}-${build}`,
    command !== undefined && /^[a-z]{1,32}$/.test(command) ? command : 'other',
  );
}

/**
 * `directory` (its real path), made if missing, if only this user can have written what it holds;
 * undefined otherwise (or if it cannot be made). V8 runs what a cache holds, so a cache someone
 * else could have written, or put in place, is not read: the directory must be this user's and
 * writable by no one else, and every directory above it this user's or root's and writable by no
 * one else unless sticky, as the OS temp directory is (as OpenSSH checks the path of a key). On
 * Windows, where Node gives no owner ids, the directory is used as it is (a user's temp directory
 * is their own).
 */
function usableDirectory(directory: string | undefined): string | undefined {
  if (directory === undefined) return undefined;
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    // The real path, checked and then used: a link on the way cannot be turned elsewhere later.
    const real = realpathSync(directory);
    if (typeof process.getuid !== 'function') return real;
    const uid = process.getuid();
    const own = statSync(real);
    if (!own.isDirectory() || own.uid !== uid || (own.mode & 0o022) !== 0) return undefined;
    for (let above = dirname(real); ; above = dirname(above)) {
      const stats = statSync(above);
      const writableByOthers = (stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0;
      if ((stats.uid !== uid && stats.uid !== 0) || writableByOthers) return undefined;
      if (dirname(above) === above) return real;
    }
  } catch {
    return undefined;
  }
}

/** Reads whole files into one buffer, reused from file to file: see {@link createFileReader}. */
interface FileReader {
  /** `file`'s bytes, in the shared buffer: valid until the next read. */
  read(file: string): Buffer;
  /** As {@link FileReader.read}, or undefined if `file` cannot be read. */
  readIfPresent(file: string): Buffer | undefined;
}

/**
 * A reader of whole files into one buffer that it grows to the largest file and reuses, where
 * `readFileSync` allocates a new buffer for each. A command's start reads about 1.5 MB of sources
 * and caches; each new page of memory costs about 11 µs on the benchmark machine the first time it
 * is written (a virtual machine's page fault), so the buffers alone cost several milliseconds
 * (docs/benchmarks.md, "Issue 18, eighteenth round"). What was read must be used (made a string, or
 * compiled) before the next read.
 */
function createFileReader(): FileReader {
  // Untouched memory costs nothing: only the pages a read writes are faulted in.
  let buffer = Buffer.allocUnsafeSlow(1 << 20);
  function read(file: string): Buffer {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > buffer.length) buffer = Buffer.allocUnsafeSlow(size);
      let length = 0;
      while (length < size) {
        const count = readSync(fd, buffer, length, size - length, length);
        if (count === 0) break;
        length += count;
      }
      return buffer.subarray(0, length);
    } finally {
      closeSync(fd);
    }
  }
  return {
    read,
    readIfPresent(file) {
      try {
        return read(file);
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Writes `script`'s code cache to `file` through a temporary file and a rename; failures are
 * ignored. Returns whether it was written.
 */
function writeCache(file: string, script: Script): boolean {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
    renameSync(temporary, file);
    return true;
  } catch {
    try {
      unlinkSync(temporary);
    } catch {
      // Never written.
    }
    return false;
  }
}
