#!/usr/bin/env node
import module from 'node:module';

// The `ghcr` executable. On Node >= 22.1, V8's compiled code of the CLI (one bundled file, main.js)
// is cached between runs (in the OS temp directory, or where NODE_COMPILE_CACHE says), which saves
// part of every command's start-up; Node 20 has no such cache and this is a no-op there. The cache
// must be on before main.js is loaded, hence the dynamic import.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./main.js');
