#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import {
  codeCacheDirectory,
  createCommonJsLoader,
  markBuildCachesUsed,
  removeUnusedBuildCaches,
} from './code-cache.js';
import { cacheCommandOf } from './command-names.js';
import { useShortCommandV8Settings } from './v8-settings.js';

// The `ghcr` executable.
//
// undici parses HTTP with llhttp compiled to WebAssembly, which V8 compiles twice: at once to
// baseline code (Liftoff), then again, optimised, on a background thread (TurboFan). A process
// cannot exit while that background compile runs: ~0.19 s at the end of every short command on
// the benchmark machine (`ghcr copy` inside one registry 0.52-0.69 s → 0.35-0.46 s). The baseline
// code is fast enough for what ghcr parses (a 1×256 MiB pull: the same wall time, 10 % less CPU),
// so the executable keeps it. Set here, before anything compiles WebAssembly; the library
// packages leave V8 alone. (The commands now send every request on the transport's own
// connections and never start undici; `ghcr serve`'s simulation still does.)
v8.setFlagsFromString('--liftoff-only');

// More settings for a short-lived command whose JavaScript is glue around native work
// (sockets, sha256, files), measured on the benchmark machine (docs/benchmarks.md, "Issue 18,
// sixth round"):
// - No optimising compiler (TurboFan) for JavaScript either. It compiles hot functions on a
//   background thread that competes with the transfer for the cores, and pages in ~5 MiB of
//   compiler. Functions still get Sparkplug's baseline code. A 64 × 1 MiB copy to a second
//   registry: 0.78× the CPU, 0.90× the wall time (with the next setting). JavaScript-bound work
//   takes as long the first time a process does it and longer when it repeats it: planning
//   retention for 10,000 versions, 332-356 ms for the first plan either way, 209-216 → 251-270 ms
//   by the fifth plan in the same process.
// - Nor Maglev, V8's mid-tier optimising compiler, where this Node has it (Node 24; Node 20 and 22
//   are built without it): it too compiles on a background thread. On Node 24, a 64 × 1 MiB copy
//   to a second registry: 0.87-0.92× the CPU, 0.96× the wall time; a 1 GiB pull peaks 2.4 MiB
//   lower (docs/benchmarks.md, "Issue 18, eleventh round").
// - A young generation that stays at its first size (1 MiB a semi-space) instead of doubling up to
//   16 MiB when much of it survives a scavenge, as start-up alone makes it do (to 4 MiB). Peak RSS
//   of a 1 GiB pull 69.7 → 60.5 MiB, copy 72.3 → 62.5 MiB (both settings). One case grew instead:
//   a push of 8 × 32 MiB, 88 → 99 MiB, where more ArrayBuffers were alive at the peak (36 against
//   21 MiB; a buffer that outlives two scavenges waits in the old generation for a full one). Its
//   uploads now read their files through smaller buffers (content/oci-layout.ts), and it peaks at
//   79 MiB.
// All are read by V8 as it runs, so they take effect from here; settings V8 reads once at start
// (the semi-space's maximum, a single-threaded GC) would be ignored or, for the GC, abort.
// `ghcr serve`, which runs until it is stopped, puts V8's defaults back (v8-settings.ts).
useShortCommandV8Settings();

// V8's compiled code of the bundle is kept between runs, which saves part of every command's
// start-up. The executable loads the bundle's CommonJS copy (start.cjs and the chunks it requires:
// the same code, file by file; build/commonjs-copies.mjs) through its own loader (code-cache.ts),
// which keeps V8's code cache where Node keeps its compile cache (the OS temp directory, or where
// NODE_COMPILE_CACHE says), one per command, written as a successful run ends: the cache then
// holds the functions the command ran, not only the files' top levels, which V8 would otherwise
// compile again at every run. `ghcr tags` 0.90x the wall time on Node 20 against a cache of the
// top levels; on Node 24, 0.94x against Node's own compile cache, which held half as much
// (docs/benchmarks.md, "Issue 18, sixteenth round"). A run that failed writes none, so a usage
// error leaves no cache of itself.
//
// This file is CommonJS too (`dist/bin.cjs`, build/launcher.mjs), and nothing it loads is an ES
// module, so no start pays for Node's ES module loader: `ghcr tags` 0.97x the wall time on Node 20,
// 0.95x on Node 24 (the same round). Hence no top-level await here: a rejected start is an
// unhandled rejection, which Node prints and exits 1 on, as it did for an awaited one.
const entry = fileURLToPath(new URL('./start.cjs', import.meta.url));
const loader = createCommonJsLoader({
  cacheDirectory: codeCacheDirectory(
    process.env,
    readFileSync(entry, 'latin1'),
    cacheCommandOf(process.argv.slice(2)),
  ),
});
// Each build keeps caches of its own; a build's run marks them used now and then, and one that had
// to write caches (a new build, a command's first run) removes those of builds unused for a week
// (the versions a user upgraded from).
const cacheDirectory = loader.cacheDirectory;
if (cacheDirectory !== undefined) markBuildCachesUsed(cacheDirectory, Date.now());
process.once('exit', (code) => {
  if (code === 0 && loader.writeCaches() > 0 && cacheDirectory !== undefined) {
    removeUnusedBuildCaches(cacheDirectory, Date.now());
  }
});
void (loader.load(entry) as typeof import('./start.js')).start();
