#!/usr/bin/env node
import module from 'node:module';
import v8 from 'node:v8';

// The `ghcr` executable.
//
// undici parses HTTP with llhttp compiled to WebAssembly, which V8 compiles twice: at once to
// baseline code (Liftoff), then again, optimised, on a background thread (TurboFan). A process
// cannot exit while that background compile runs: ~0.19 s at the end of every short command on
// the benchmark machine (`ghcr copy` inside one registry 0.52-0.69 s → 0.35-0.46 s). The baseline
// code is fast enough for what ghcr parses (a 1×256 MiB pull: the same wall time, 10 % less CPU),
// so the executable keeps it. Set here, before anything compiles WebAssembly; the library
// packages leave V8 alone.
v8.setFlagsFromString('--liftoff-only');

// On Node >= 22.1, V8's compiled code of the CLI (one bundled file, main.js) is cached between runs
// (in the OS temp directory, or where NODE_COMPILE_CACHE says), which saves part of every
// command's start-up; Node 20 has no such cache and this is a no-op there. The cache must be on
// before main.js is loaded, hence the dynamic import.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./main.js');
