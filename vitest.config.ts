import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import sibling packages by name (`@ghcr/manifest`); resolve those names to each package's
// TypeScript source so the suite runs without a build and a change is seen at once. Published
// consumers resolve the same names through each package's exports map to dist/.
const root = fileURLToPath(new URL('.', import.meta.url));
const alias: Record<string, string> = {};
for (const dir of readdirSync(`${root}packages`)) {
  const entry = `${root}packages/${dir}/src/index.ts`;
  if (existsSync(entry)) alias[`@ghcr/${dir}`] = entry;
  for (const subpath of ['vitest', 'core']) {
    const subpathEntry = `${root}packages/${dir}/src/${subpath}.ts`;
    if (existsSync(subpathEntry)) alias[`@ghcr/${dir}/${subpath}`] = subpathEntry;
  }
}
// Longest keys first, so `@ghcr/simulation/vitest` wins over `@ghcr/simulation`.
const aliases = Object.entries(alias)
  .sort(([a], [b]) => b.length - a.length)
  .map(([find, replacement]) => ({ find, replacement }));

export default defineConfig({
  resolve: { alias: aliases },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: ['**/*.integ.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integ',
          include: ['packages/*/src/**/*.integ.test.ts', 'packages/*/test/**/*.integ.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Integration tests start real registry processes; one file at a time keeps 2 cores sane.
          fileParallelism: false,
        },
      },
    ],
  },
});
