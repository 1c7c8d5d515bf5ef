#!/usr/bin/env node
// Type-checks the TypeScript samples of the READMEs, as a user's project would compile them: every
// ```ts block of README.md, packages/*/README.md, apps/*/README.md and examples/**/README.md
// becomes a module of a temporary project whose node_modules links the workspace packages (their
// built types, through their `exports`) and the third-party packages the samples import; then
// `tsc` runs on it, strict, with exactOptionalPropertyTypes. Build the packages first
// (`pnpm build`): the samples see what a user installs, dist/*.d.ts.
//
// A block that continues an earlier one (it uses its `client`, say) declares what it takes in an
// HTML comment right above the fence, which GitHub does not show:
//
//   <!-- sample-setup
//   import type { GhcrClient } from '@ghcr/client';
//   declare const client: GhcrClient;
//   -->
//   ```ts
//
// A block that is deliberately not TypeScript that compiles (a signature, an excerpt) opts out with
// ```ts no-check. Usage: node scripts/check-readme-samples.mjs [--keep] (--keep leaves the project).
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');

function readmes() {
  const found = ['README.md'];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(ROOT, group), { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(ROOT, group, entry.name, 'README.md'))) {
        found.push(`${group}/${entry.name}/README.md`);
      }
    }
  }
  if (existsSync(join(ROOT, 'examples'))) {
    for (const file of readdirSync(join(ROOT, 'examples'), { recursive: true })) {
      const path = String(file);
      if (path.endsWith('README.md') && !path.includes('node_modules')) found.push(`examples/${path}`);
    }
  }
  return found;
}

/** The ```ts blocks of a markdown file: { line, code, setup, check }. */
function samplesOf(markdown) {
  const lines = markdown.split('\n');
  const samples = [];
  for (let index = 0; index < lines.length; index += 1) {
    const fence = /^```(ts|typescript)\b(.*)$/.exec(lines[index]);
    if (fence === null) continue;
    const start = index;
    const body = [];
    for (index += 1; index < lines.length && !/^```\s*$/.test(lines[index]); index += 1)
      body.push(lines[index]);
    // The setup comment ends on the line above the fence (blank lines allowed between).
    let above = start - 1;
    while (above >= 0 && lines[above].trim() === '') above -= 1;
    let setup = '';
    if (above >= 0 && lines[above].trim() === '-->') {
      let open = above - 1;
      while (open >= 0 && !lines[open].startsWith('<!-- sample-setup')) open -= 1;
      if (open >= 0) setup = lines.slice(open + 1, above).join('\n');
    }
    samples.push({ line: start + 1, code: body.join('\n'), setup, check: !/\bno-check\b/.test(fence[2]) });
  }
  return samples;
}

/** Where a package the samples import is installed in the workspace (the first copy found). */
function locate(name) {
  const places = [
    ROOT,
    ...['packages', 'apps'].flatMap((group) =>
      readdirSync(join(ROOT, group)).map((entry) => join(ROOT, group, entry)),
    ),
    join(ROOT, 'examples'),
  ];
  for (const place of places) {
    const candidate = join(place, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
  }
  return undefined;
}

const files = [];
const imported = new Set(['@types/node']);
let total = 0;
let skipped = 0;
for (const readme of readmes()) {
  for (const sample of samplesOf(readFileSync(join(ROOT, readme), 'utf8'))) {
    total += 1;
    if (!sample.check) {
      skipped += 1;
      continue;
    }
    const name = `${readme.replace(/[/.]/g, '_')}_L${sample.line}.ts`;
    const source = `${sample.setup}\n${sample.code}\nexport {};\n`;
    files.push({
      name,
      readme,
      line: sample.line,
      source,
      codeStart: sample.setup === '' ? 2 : sample.setup.split('\n').length + 1,
    });
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'([^'.][^']*)'/g)) {
      const spec = match[1];
      if (spec.startsWith('node:')) continue;
      const parts = spec.split('/');
      imported.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
    }
  }
}

const project = mkdtempSync(join(tmpdir(), 'ghcr-readme-samples-'));
try {
  for (const name of imported) {
    const workspace = /^@ghcr\/(.+)$/.exec(name);
    const target =
      workspace !== null && existsSync(join(ROOT, 'packages', workspace[1], 'package.json'))
        ? join(ROOT, 'packages', workspace[1])
        : locate(name);
    if (target === undefined) {
      console.error(`check-readme-samples: a sample imports ${name}, which no workspace package installs`);
      process.exit(1);
    }
    if (workspace !== null && !existsSync(join(target, 'dist'))) {
      console.error(`check-readme-samples: ${relative(ROOT, target)}/dist is missing: run pnpm build first`);
      process.exit(1);
    }
    mkdirSync(dirname(join(project, 'node_modules', name)), { recursive: true });
    symlinkSync(target, join(project, 'node_modules', name), 'dir');
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'readme-samples', private: true, type: 'module' }),
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        types: ['node'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        // Samples name values to show them, without using every one.
        noUnusedLocals: false,
      },
      include: ['*.ts'],
    }),
  );
  for (const file of files) writeFileSync(join(project, file.name), file.source);

  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', project, '--pretty', 'false'], {
      cwd: project,
      encoding: 'utf8',
    });
  } catch (error) {
    output = `${error.stdout ?? ''}${error.stderr ?? ''}`;
  }
  if (output.trim() !== '') {
    // Point each error at its README line: file_L<fence>.ts(<line>,<col>) → README.md:<line>.
    const byName = new Map(files.map((file) => [file.name, file]));
    const located = output.replace(/^(\S+?\.ts)\((\d+),(\d+)\)/gm, (whole, name, line, column) => {
      const file = byName.get(name);
      if (file === undefined) return whole;
      const inSetup = Number(line) < file.codeStart;
      const readmeLine = inSetup
        ? `${file.line} (its sample-setup)`
        : String(file.line + Number(line) - file.codeStart + 1);
      return `${file.readme}:${readmeLine}:${column}`;
    });
    console.error(located.trimEnd());
    console.error(
      `check-readme-samples: a README sample does not compile (fix it; a block that is not meant to compile is marked \`\`\`ts no-check)`,
    );
    process.exit(1);
  }
  console.log(
    `check-readme-samples: ${files.length} TypeScript samples compile (${skipped} of ${total} marked no-check)`,
  );
} finally {
  if (keep) console.log(`check-readme-samples: project kept in ${project}`);
  else rmSync(project, { recursive: true, force: true });
}
