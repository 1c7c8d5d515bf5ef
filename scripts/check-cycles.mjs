#!/usr/bin/env node
// Fails when the modules of a package import each other in a cycle, counting `import type` and
// `export … from` too (Biome's noImportCycles skips type-only imports, and a type-only edge is
// still a tangle a reader has to unpick). Tests are left out: only src modules that ship.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

function walk(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (entry === 'node_modules' || entry === 'dist') continue;
      out.push(...walk(path));
    } else if (/\.(ts|mts)$/.test(entry) && !entry.endsWith('.d.ts') && !/\.test\.ts$/.test(entry)) {
      out.push(path);
    }
  }
  return out;
}

const importRe =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Tarjan's strongly connected components; every component of more than one module is a cycle. */
function cyclesOf(graph) {
  let index = 0;
  const indices = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const components = [];
  const connect = (node) => {
    indices.set(node, index);
    low.set(node, index);
    index += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node), low.get(next)));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node), indices.get(next)));
      }
    }
    if (low.get(node) === indices.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? new Set()).has(node)) components.push(component);
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) connect(node);
  return components;
}

const problems = [];
for (const root of ['packages', 'apps'].filter((dir) => existsSync(dir))) {
  for (const pkg of readdirSync(root)) {
    const src = join(root, pkg, 'src');
    if (!existsSync(src)) continue;
    const files = walk(src);
    const known = new Set(files);
    const graph = new Map(files.map((file) => [file, new Set()]));
    for (const file of files) {
      // Comments may quote an import (`await import('./x.js')` in a doc comment): drop them first.
      const text = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      for (const match of text.matchAll(importRe)) {
        const specifier = match[1] ?? match[2];
        const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
        const candidate = relative(process.cwd(), target);
        if (known.has(candidate)) graph.get(file).add(candidate);
      }
    }
    for (const component of cyclesOf(graph)) {
      problems.push(
        `${join(root, pkg)}: ${component.length} modules import each other in a cycle:\n    ${component.sort().join('\n    ')}`,
      );
    }
  }
}
if (problems.length > 0) {
  console.error(
    `check-cycles: ${problems.length} import cycle(s), type imports included:\n  ${problems.join('\n  ')}`,
  );
  console.error('Move the shared types or helpers into a module both sides import.');
  process.exit(1);
}
console.log('check-cycles: no import cycles (type imports included)');
