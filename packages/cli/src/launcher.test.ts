import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLauncher } from '../build/launcher.mjs';

// The executable (src/bin.ts) as build/launcher.mjs builds it: one CommonJS file that loads the
// bundle's CommonJS copy, so that no command's start loads Node's ES module loader.

const BIN_SOURCE = fileURLToPath(new URL('./bin.ts', import.meta.url));

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ghcr-launcher-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('buildLauncher', () => {
  it('builds the executable that starts the copy beside it, with no ES module loaded', async () => {
    const out = join(root, 'dist');
    const code = await buildLauncher(BIN_SOURCE, join(out, 'bin.cjs'));
    expect(code.startsWith('#!/usr/bin/env node\n"use strict";')).toBe(true);
    expect(statSync(join(out, 'bin.cjs')).mode & 0o111).toBe(0o111);
    // What Node loaded before the launcher ran (its own start differs between versions), and a
    // stand-in for the bundle's copy that reports how it was started: the internal modules Node
    // loaded since that run ES modules. On Node 20 an ES module entry or an import() loads them
    // then (an ES module launcher made this 1); Node 24 loads them at its own start either way.
    writeFileSync(join(root, 'before.cjs'), 'globalThis.loadedBefore = new Set(process.moduleLoadList);\n');
    writeFileSync(
      join(out, 'start.cjs'),
      `"use strict";
exports.start = async () => {
  process.stdout.write(JSON.stringify({
    argv: process.argv.slice(2),
    esModuleJobs: process.moduleLoadList.filter(
      (name) => !globalThis.loadedBefore.has(name) && name.includes('internal/modules/esm/module_job'),
    ).length,
  }));
};
`,
    );
    const child = spawnSync(
      process.execPath,
      ['--require', join(root, 'before.cjs'), join(out, 'bin.cjs'), 'tags', 'x'],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: join(root, 'cache') },
      },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ argv: ['tags', 'x'], esModuleJobs: 0 });
  });

  it('refuses a launcher that would import an ES module, or that esbuild warned about', async () => {
    const esm = join(root, 'esm.ts');
    writeFileSync(esm, "#!/usr/bin/env node\nvoid import('node:os');\n");
    await expect(buildLauncher(esm, join(root, 'esm.cjs'))).rejects.toThrow(
      /esm\.ts: the launcher imports an ES module; it must load the bundle's CommonJS copy/,
    );
    const warned = join(root, 'warned.ts');
    writeFileSync(warned, '#!/usr/bin/env node\nconsole.log(import.meta.dirname);\n');
    await expect(buildLauncher(warned, join(root, 'warned.cjs'))).rejects.toThrow(
      /warned\.ts: esbuild warned while building the launcher/,
    );
    const bare = join(root, 'bare.ts');
    writeFileSync(bare, 'console.log(1);\n');
    await expect(buildLauncher(bare, join(root, 'bare.cjs'))).rejects.toThrow(
      /bare\.ts: the launcher lost its #!\/usr\/bin\/env node line/,
    );
  });
});
