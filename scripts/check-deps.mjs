#!/usr/bin/env node
// Fails when a package imports something it does not declare, imports a @ghcr package above it in
// the layering of DESIGN.md, or reaches into another package's internals (smithy's
// scripts/check-dependencies.js does the same job). Tests may use devDependencies; src may not.
// Inside @ghcr/client it also holds the folders to their layers (CLIENT_RANK below). Before it
// looks at the repository it runs its rules on a small tree with known violations and fails if
// they are not all caught, so a rule that stops matching cannot pass silently.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';

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

// The layers inside @ghcr/client's src, lowest first. A file may import its own layer or a lower
// one, never a higher one: registry/ (the distribution protocol) imports nothing above it;
// content/ (targets, copy engine) may use registry/; the front doors may use both and each other;
// github/ (versions, retention, vulnerabilities) may use everything below it. Of the root files,
// events.ts and progress.ts are a base every layer may import (they import only each other),
// options.ts may be imported by every layer (the settings type) and, with client.ts and index.ts,
// is the composition root that may import anything; nothing imports client.ts or index.ts.
// operation-spans.ts belongs to the root too: it wraps every capability of the composed client in
// its OpenTelemetry operation span.
// Tests and testing/ are exempt.
const CLIENT_RANK = { registry: 0, content: 1, front: 2, github: 3 };
const CLIENT_FRONT_DOORS = new Set(['images', 'referrers', 'multi-arch', 'signatures', 'sync']);
const CLIENT_BASE = new Set(['events.ts', 'progress.ts']);
const CLIENT_COMPOSITION_ROOT = new Set([
  'client.ts',
  'index.ts',
  'core.ts',
  'options.ts',
  'operation-spans.ts',
]);
// Known exceptions, each with why; an entry that no longer matches an import is itself a problem.
const CLIENT_EXCEPTIONS = new Map([
  [
    'signatures/verify.ts -> github/vulnerabilities/attestation.ts',
    'in-toto statement parsing lives with the vulnerability parsers; it belongs below both (issue 14)',
  ],
]);

/** The layer of a file inside client/src (`registry`, `content`, `front`, `github`, `base`, `root`, `testing`), or undefined. */
function clientLayer(path) {
  const [top, ...rest] = path.split('/');
  if (rest.length === 0) {
    if (CLIENT_BASE.has(top)) return 'base';
    if (CLIENT_COMPOSITION_ROOT.has(top)) return 'root';
    return undefined;
  }
  if (top === 'testing') return 'testing';
  if (top in CLIENT_RANK) return top;
  if (CLIENT_FRONT_DOORS.has(top)) return 'front';
  return undefined;
}

/** Why `from` (a src file of @ghcr/client) may not import `to`, or undefined when it may. */
function clientLayerProblem(from, to) {
  const a = clientLayer(from);
  const b = clientLayer(to);
  if (a === undefined || b === undefined) return undefined; // reported once per file, below
  if (b === 'testing') return `${to} is test code`;
  if (to === 'client.ts' || to === 'index.ts') {
    return a === 'root' ? undefined : `${to} is the composition root; pass what is needed in instead`;
  }
  if (a === 'root') return undefined;
  if (a === 'base') return b === 'base' ? undefined : 'events.ts and progress.ts import only each other';
  if (b === 'base' || to === 'options.ts') return undefined;
  if (CLIENT_RANK[b] > CLIENT_RANK[a]) return `${nameOf(a)} may not import ${nameOf(b)} (a higher layer)`;
  return undefined;
}

const nameOf = (layer) => (layer === 'front' ? 'a front door' : `${layer}/`);

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

/** Every problem of the repository at `base`. */
function scan(base) {
  // Test tooling (vitest, fast-check, …) is installed once at the root; tests may use it.
  const rootDev = new Set(
    Object.keys(JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')).devDependencies ?? {}),
  );
  const problems = [];
  const usedExceptions = new Set();
  const roots = ['packages', 'apps'].filter((d) => existsSync(join(base, d)));
  for (const root of roots) {
    for (const dir of readdirSync(join(base, root))) {
      const pkgPath = join(base, root, dir, 'package.json');
      const srcDir = join(base, root, dir, 'src');
      if (!existsSync(pkgPath) || !existsSync(srcDir)) continue;
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
      const runtime = new Set([
        ...Object.keys(pkg.dependencies ?? {}),
        ...Object.keys(pkg.peerDependencies ?? {}),
      ]);
      const dev = new Set(Object.keys(pkg.devDependencies ?? {}));
      for (const file of walk(srcDir)) {
        // Test code: test files, each package's testing/ folder, and the whole test harness package.
        const isTest =
          /\.(test|test-d|bench)\.ts$/.test(file) ||
          /[\\/]testing[\\/]/.test(file) ||
          pkg.name === '@ghcr/test-support';
        const text = readFileSync(file, 'utf8');
        if (pkg.name === '@ghcr/client' && !isTest) {
          const inSrc = relative(srcDir, file).split('\\').join('/');
          if (clientLayer(inSrc) === undefined) {
            problems.push(
              `${relative(base, file)}: in no layer of @ghcr/client; put it in registry/, content/, a front door or github/ (the root holds only ${[...CLIENT_COMPOSITION_ROOT, ...CLIENT_BASE].join(', ')})`,
            );
          }
        }
        for (const match of text.matchAll(importRe)) {
          const spec = match[1] ?? match[2];
          if (spec?.startsWith('.') && pkg.name === '@ghcr/client' && !isTest) {
            const from = relative(srcDir, file).split('\\').join('/');
            const to = posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
            const problem = clientLayerProblem(from, to);
            const edge = `${from} -> ${to}`;
            if (problem !== undefined && CLIENT_EXCEPTIONS.has(edge)) usedExceptions.add(edge);
            else if (problem !== undefined)
              problems.push(`${relative(base, file)}: imports ${spec}: ${problem}`);
          }
          if (!spec || spec.startsWith('.') || spec.startsWith('#') || builtins.has(spec)) continue;
          const parts = spec.split('/');
          const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
          const where = relative(base, file);
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
  if (existsSync(join(base, 'packages', 'client', 'src'))) {
    for (const [edge, why] of CLIENT_EXCEPTIONS) {
      if (!usedExceptions.has(edge))
        problems.push(`check-deps: the exception "${edge}" (${why}) matches no import any more; remove it`);
    }
  }
  return problems;
}

/** The rules, run on a tree with one violation of each kind: every one must be reported. */
function selfCheck() {
  const base = mkdtempSync(join(tmpdir(), 'check-deps-'));
  const write = (path, text) => {
    mkdirSync(dirname(join(base, path)), { recursive: true });
    writeFileSync(join(base, path), text);
  };
  try {
    write('package.json', '{}');
    write('packages/client/package.json', JSON.stringify({ name: '@ghcr/client' }));
    const src = 'packages/client/src';
    write(`${src}/client.ts`, "import { b } from './github/versions/b.js';\n");
    write(`${src}/options.ts`, "import type { b } from './github/versions/b.js';\n");
    write(`${src}/events.ts`, '');
    write(`${src}/github/versions/b.ts`, "import { c } from '../../content/c.js';\n");
    write(
      `${src}/registry/a.ts`,
      "import { c } from '../content/c.js';\nimport type { o } from '../options.js';\n",
    );
    write(
      `${src}/content/c.ts`,
      "import { i } from '../images/i.js';\nimport { r } from '../registry/a.js';\n",
    );
    write(
      `${src}/images/i.ts`,
      "import { b } from '../github/versions/b.js';\nimport { x } from '../client.js';\n",
    );
    write(`${src}/loose.ts`, '');
    write(`${src}/images/i.test.ts`, "import { x } from '../client.js';\n");
    write(`${src}/testing/kit.ts`, "import { b } from '../github/versions/b.js';\n");
    const found = scan(base).filter((p) => !p.startsWith('check-deps: the exception'));
    const expected = [
      'registry/a.ts: imports ../content/c.js',
      'content/c.ts: imports ../images/i.js',
      'images/i.ts: imports ../github/versions/b.js',
      'images/i.ts: imports ../client.js',
      'loose.ts: in no layer',
    ];
    const missed = expected.filter((want) => !found.some((p) => p.includes(want)));
    const extra = found.filter((p) => !expected.some((want) => p.includes(want)));
    if (missed.length > 0 || extra.length > 0) {
      console.error(
        `check-deps: self-check failed; the layer rule missed ${JSON.stringify(missed)} and wrongly reported ${JSON.stringify(extra)}`,
      );
      process.exit(2);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

selfCheck();
const problems = scan('.');
if (problems.length > 0) {
  console.error(`check-deps: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}
console.log('check-deps: every import is declared and points down the layers');
