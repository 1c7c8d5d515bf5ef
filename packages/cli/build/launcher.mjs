// The `ghcr` executable: src/bin.ts built as CommonJS, alone (dist/bin.cjs).
//
// The executable does little itself: it sets V8's flags and loads the bundle's CommonJS copy
// (start.cjs and the chunks it requires) with its code-cache loader (src/code-cache.ts). Started
// as an ES module it would make Node load its ES
// module loader before any of that, for nothing (docs/benchmarks.md, "Issue 18, sixteenth
// round").
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { COMMONJS_BANNER, COMMONJS_OPTIONS } from './commonjs-copies.mjs';

/**
 * Builds `entry` (src/bin.ts) into `outfile` as one CommonJS file, in strict mode, its own imports
 * bundled in and the bundle's copy (`./start.cjs`) left beside it. Throws on any warning, and where
 * the result could not start the bundle: no `#!/usr/bin/env node` line first, or an import left
 * that Node would have to load as an ES module.
 */
export async function buildLauncher(entry, outfile) {
  const { build } = createRequire(import.meta.url)('esbuild');
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    ...COMMONJS_OPTIONS,
    external: ['./start.cjs'],
    banner: { js: COMMONJS_BANNER },
    write: false,
    logLevel: 'silent',
  });
  if (result.warnings.length > 0) {
    throw new Error(
      `${entry}: esbuild warned while building the launcher: ${result.warnings.map((w) => w.text).join('; ')}`,
    );
  }
  const [file] = result.outputFiles;
  if (file === undefined) throw new Error(`${entry}: esbuild wrote no launcher`);
  const code = file.text;
  if (!code.startsWith('#!/usr/bin/env node\n')) {
    throw new Error(`${entry}: the launcher lost its #!/usr/bin/env node line`);
  }
  if (/\bimport\(/.test(code)) {
    throw new Error(
      `${entry}: the launcher imports an ES module; it must load the bundle's CommonJS copy (start.cjs)`,
    );
  }
  await mkdir(dirname(outfile), { recursive: true });
  await writeFile(outfile, code);
  await chmod(outfile, 0o755);
  return code;
}
