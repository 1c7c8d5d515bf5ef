#!/usr/bin/env node
// Fails when a package imports something it does not declare, imports a @ghcr package above it in
// the layering of DESIGN.md, or reaches into another package's internals (smithy's
// scripts/check-dependencies.js does the same job). Tests may use devDependencies; src may not.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

// Lower number = lower layer. A package may depend only on packages of a strictly lower layer,
// except that simulation (a test double) sits beside auth and is a runtime dependency of the cli alone.
const LAYER = {
  '@ghcr/oci-types': 0,
  '@ghcr/manifest': 1,
  '@ghcr/simulation': 2,
  '@ghcr/auth': 2,
  '@ghcr/transport': 3,
  '@ghcr/client': 4,
  '@ghcr/cli': 5,
};
const RUNTIME_SIMULATION_ALLOWED = new Set(['@ghcr/cli', '@ghcr/simulation']);
// Packages whose build bundles every import (tsup.config.ts) and that publish no runtime
// dependency: their src may import their devDependencies. The packaging test
// (packages/cli/src/packaging.integ.test.ts) checks that the tarball runs with nothing installed.
const BUNDLED = new Set(['@ghcr/cli']);
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (/\.(ts|mts|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const importRe =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
// Test tooling (vitest, fast-check, …) is installed once at the root; tests may use it.
const rootDev = new Set(Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).devDependencies ?? {}));
const problems = [];
const roots = ['packages', 'apps'].filter((d) => existsSync(d));
for (const root of roots) {
  for (const dir of readdirSync(root)) {
    const pkgPath = join(root, dir, 'package.json');
    if (!existsSync(pkgPath) || !existsSync(join(root, dir, 'src'))) continue;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
    const runtime = new Set([
      ...Object.keys(pkg.dependencies ?? {}),
      ...Object.keys(pkg.peerDependencies ?? {}),
    ]);
    const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
    for (const file of walk(join(root, dir, 'src'))) {
      const isTest =
        /\.(test|test-d|bench)\.ts$/.test(file) ||
        /[\\/](testing|testing-internal|test-support)[\\/]/.test(file);
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(importRe)) {
        const spec = match[1] ?? match[2];
        if (!spec || spec.startsWith('.') || spec.startsWith('#') || builtins.has(spec)) continue;
        const parts = spec.split('/');
        const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        const where = relative('.', file);
        if (name === pkg.name) {
          problems.push(`${where}: imports its own package by name (${spec}); use a relative import`);
          continue;
        }
        if (name.startsWith('@ghcr/') && /\/(src|dist)(\/|$)/.test(spec)) {
          problems.push(`${where}: deep import ${spec}; import from the package's exports instead`);
        }
        const declared =
          runtime.has(name) ||
          ((isTest || BUNDLED.has(pkg.name)) && dev.has(name)) ||
          (isTest && rootDev.has(name));
        if (!declared) {
          problems.push(
            `${where}: imports ${name} but ${pkg.name} does not declare it in ${isTest ? 'dependencies or devDependencies' : 'dependencies'}`,
          );
        }
        if (!isTest && name in LAYER && pkg.name in LAYER) {
          if (name === '@ghcr/simulation' && !RUNTIME_SIMULATION_ALLOWED.has(pkg.name)) {
            problems.push(
              `${where}: @ghcr/simulation is a test double; only @ghcr/cli may use it at runtime`,
            );
          } else if (name !== '@ghcr/simulation' && LAYER[name] >= LAYER[pkg.name]) {
            problems.push(
              `${where}: ${pkg.name} (layer ${LAYER[pkg.name]}) imports ${name} (layer ${LAYER[name]}): dependencies point down only`,
            );
          }
        }
      }
    }
  }
}
if (problems.length > 0) {
  console.error(`check-deps: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('check-deps: every import is declared and points down the layers');
