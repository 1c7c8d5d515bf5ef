#!/usr/bin/env node
// Scaffolds packages/<name> with the repository's package conventions:
// ESM, tsup to dist with .d.ts, an exports map with types, sideEffects false, files, engines.
// Usage: node scripts/new-package.mjs <name> "<description>" [dep ...]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [name, description, ...deps] = process.argv.slice(2);
if (!name || !description) {
  console.error('usage: node scripts/new-package.mjs <name> "<description>" [@ghcr/dep ...]');
  process.exit(2);
}
const dir = join('packages', name);
if (existsSync(dir)) {
  console.error(`${dir} exists already`);
  process.exit(1);
}
mkdirSync(join(dir, 'src'), { recursive: true });
const pkg = {
  name: `@ghcr/${name}`,
  version: '0.0.0',
  description,
  license: 'Apache-2.0',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20.19' },
  repository: { type: 'git', url: 'git+https://github.com/ghcr-ts/ghcr.git', directory: dir },
  exports: {
    '.': { types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'README.md'],
  scripts: {
    build: 'tsup',
    typecheck: 'tsc --noEmit -p tsconfig.json',
    publint: 'publint --strict --pack npm',
  },
  publishConfig: { access: 'public' },
  dependencies: Object.fromEntries(deps.map((d) => [d, 'workspace:*'])),
};
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'tsconfig.json'),
  `${JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src'] }, null, 2)}\n`,
);
writeFileSync(
  join(dir, 'tsup.config.ts'),
  `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['vitest', 'msw'],
});
`,
);
console.log(`created ${dir}`);
