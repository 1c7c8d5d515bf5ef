// The start-up floor of the stack the CLI is built on: Node with zod loaded (one schema built and
// used) and undici imported but not used, behind the executable's facade that requires it from a
// file beside the bundle on first use (the executable's commands never use it: every request goes
// out on the transport's own connections), bundled as the `ghcr` executable is (the same esbuild
// plugins, the same loader: its V8 settings from `./v8-flags.mjs`, the bundle's CommonJS copy under
// the executable's own code cache), and no
// ghcr code. What `ghcr --version` takes above it is ghcr's own start.
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_V8_FLAGS } from './v8-flags.mjs';

const cli = fileURLToPath(new URL('../../packages/cli/', import.meta.url));
const client = fileURLToPath(new URL('../../packages/client/', import.meta.url));

/** What the floor is, as the report names it. */
export const FLOOR_TEXT = 'Node with zod loaded and undici beside it (loaded on first use)';

const ENTRY = `import { Agent } from 'undici';
import * as z from 'zod';
z.strictObject({ name: z.string(), size: z.number().int() }).parse({ name: 'floor', size: 1 });
// The facade is a function without running undici; the executable leaves it at that too.
if (typeof Agent !== 'function') throw new Error('undici is not in the floor');
`;

// The executable's loader (packages/cli/src/bin.ts, CommonJS as it is built), pointed at the
// floor's bundle: its CommonJS copy under the executable's own code cache, written as the run ends.
const LOADER = `"use strict";
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const v8 = require('node:v8');
const { codeCacheDirectory, createCommonJsLoader } = require('./code-cache.cjs');
${CLI_V8_FLAGS.map((flag) => `v8.setFlagsFromString(${JSON.stringify(flag)});`).join('\n')}
const entry = join(__dirname, 'floor-main.cjs');
const loader = createCommonJsLoader({ cacheDirectory: codeCacheDirectory(process.env, readFileSync(entry, 'latin1')) });
process.once('exit', (code) => { if (code === 0) loader.writeCaches(); });
loader.load(entry);
`;

/** Builds the floor program into `directory` and returns the command line that runs it. */
export async function buildFloor(directory) {
  const { build } = createRequire(join(cli, 'package.json'))('esbuild');
  const {
    REQUIRE_BANNER,
    UNDICI_FILE,
    buildUndiciFile,
    undiciBeside,
    undiciSlim,
    undiciWithoutHttp2,
    zodEnglishOnly,
  } = await import(new URL('../../packages/cli/build/bundle-plugins.mjs', import.meta.url).href);
  const { writeCommonJsCopies } = await import(
    new URL('../../packages/cli/build/commonjs-copies.mjs', import.meta.url).href
  );
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, 'package.json'), '{"type":"module"}\n');
  await build({
    // Resolved from the client package, which depends on both (as the CLI's bundle takes them).
    stdin: { contents: ENTRY, resolveDir: client, loader: 'js', sourcefile: 'floor.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    outfile: join(directory, 'floor-main.js'),
    banner: { js: REQUIRE_BANNER },
    logLevel: 'silent',
    plugins: [undiciBeside, undiciSlim, undiciWithoutHttp2, zodEnglishOnly],
  });
  await buildUndiciFile(join(directory, UNDICI_FILE));
  await writeCommonJsCopies(directory);
  // The executable's code cache loader (bundled into its bin.cjs), as a file of its own here.
  await build({
    entryPoints: [join(cli, 'src', 'code-cache.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile: join(directory, 'code-cache.cjs'),
    logLevel: 'silent',
  });
  await writeFile(join(directory, 'floor.cjs'), LOADER);
  return [process.execPath, [join(directory, 'floor.cjs')]];
}
