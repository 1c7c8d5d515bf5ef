import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildUndiciFile,
  commanderSpawnOnUse,
  lazyCommonJs,
  REQUIRE_BANNER,
  UNDICI_FILE,
  undiciBeside,
  undiciSlim,
  undiciWithoutHttp2,
  workspaceSources,
  zodEnglishOnly,
} from '../build/bundle-plugins.mjs';

// The plugins the `ghcr` executable and the cleanup Action are bundled with
// (build/bundle-plugins.mjs): each test bundles a small program with them and runs it in a new
// Node process, as the executable runs.

const run = promisify(execFile);
const packagesDirectory = fileURLToPath(new URL('../../', import.meta.url));

const COMMONJS_PACKAGE = JSON.stringify({ type: 'commonjs', main: 'index.js' });

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-bundle-plugins-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

type Plugins = readonly { name: string; setup(build: never): void }[];

/** Bundles `source` (resolved from `resolveDir`) with `plugins` into the ES module `outfile`. */
async function bundleTo(
  outfile: string,
  source: string,
  resolveDir: string,
  plugins: Plugins,
): Promise<void> {
  await build({
    stdin: { contents: source, resolveDir, loader: 'ts', sourcefile: 'program.ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    banner: { js: REQUIRE_BANNER },
    logLevel: 'silent',
    plugins: [...plugins] as never,
  });
}

/** Bundles `source` (resolved from `resolveDir`) with `plugins`, runs it, and returns what it printed as JSON. */
async function bundleAndRun(
  name: string,
  source: string,
  resolveDir: string,
  plugins: Plugins,
): Promise<{ output: unknown; bundle: string }> {
  const outfile = join(directory, `${name}.mjs`);
  await bundleTo(outfile, source, resolveDir, plugins);
  const { stdout } = await run(process.execPath, [outfile], { cwd: directory });
  return { output: JSON.parse(stdout), bundle: await readFile(outfile, 'utf8') };
}

describe('lazyCommonJs', () => {
  let fake: string;
  beforeAll(async () => {
    // A CommonJS package that records when its code runs, with an export of each kind.
    fake = join(directory, 'fake');
    await mkdir(join(fake, 'node_modules/lazy-fake'), { recursive: true });
    await writeFile(join(fake, 'node_modules/lazy-fake/package.json'), COMMONJS_PACKAGE);
    await writeFile(
      join(fake, 'node_modules/lazy-fake/index.js'),
      `globalThis.lazyFakeRuns = (globalThis.lazyFakeRuns ?? 0) + 1;
class Counter { #count = 0; constructor(start) { this.#count = start; } add() { return ++this.#count; } static of(n) { return new this(n); } }
module.exports = {
  Counter,
  twice: (x) => x * 2,
  arrow: Object.assign((x) => x + 1, { step: 1 }),
  namespace: { half: (x) => x / 2, label: 'half' },
  VERSION: '1.2.3',
  LIMIT: 42,
  ENABLED: true,
};`,
    );
  });

  it('runs the package on first use, not at start, and keeps what each export does', async () => {
    const { output } = await bundleAndRun(
      'lazy-fake',
      `import fake, { arrow, Counter, twice, namespace, VERSION, LIMIT, ENABLED } from 'lazy-fake';
const out = { atStart: globalThis.lazyFakeRuns ?? 0, constants: [VERSION, LIMIT, ENABLED] };
out.twice = twice(21);
out.afterCall = globalThis.lazyFakeRuns;
const counter = new Counter(1);
out.counter = [counter.add(), counter.add(), counter instanceof Counter, Counter.of(9).add()];
out.namespace = [namespace.half(8), namespace.label, 'half' in namespace, Object.keys(namespace)];
out.viaDefault = [fake.twice(2), new fake.Counter(5).add(), fake.VERSION];
out.kinds = [typeof twice, typeof Counter, typeof namespace];
out.arrow = [arrow(1), Object.keys(arrow), Object.keys(Counter), 'prototype' in Counter];
out.runs = globalThis.lazyFakeRuns;
console.log(JSON.stringify(out));`,
      fake,
      [lazyCommonJs(['lazy-fake'])],
    );
    expect(output).toEqual({
      atStart: 0,
      constants: ['1.2.3', 42, true],
      twice: 42,
      afterCall: 1,
      counter: [2, 3, true, 10],
      namespace: [4, 'half', true, ['half', 'label']],
      viaDefault: [4, 6, '1.2.3'],
      kinds: ['function', 'function', 'object'],
      arrow: [2, ['step'], [], true],
      runs: 1,
    });
  });

  it('without the plugin the same program runs the package at start (what the facade saves)', async () => {
    const { output } = await bundleAndRun(
      'eager-fake',
      `import { twice } from 'lazy-fake';
console.log(JSON.stringify({ atStart: globalThis.lazyFakeRuns ?? 0, twice: twice(1) }));`,
      fake,
      [],
    );
    expect(output).toEqual({ atStart: 1, twice: 2 });
  });

  it('refuses at build time an export it cannot copy, naming it', async () => {
    await mkdir(join(fake, 'node_modules/symbol-fake'), { recursive: true });
    await writeFile(join(fake, 'node_modules/symbol-fake/package.json'), COMMONJS_PACKAGE);
    await writeFile(
      join(fake, 'node_modules/symbol-fake/index.js'),
      "module.exports = { tag: Symbol('t') };",
    );
    await expect(
      bundleAndRun('symbol-fake', "import { tag } from 'symbol-fake'; console.log(String(tag));", fake, [
        lazyCommonJs(['symbol-fake']),
      ]),
    ).rejects.toThrow(/cannot copy the export "tag" \(symbol\)/);
  });

  it('the listed packages work through it in the code that uses them (sync, signing, Sigstore, progress)', async () => {
    const fixtures = fileURLToPath(
      new URL('../../client/src/signatures/__fixtures__/cosign/', import.meta.url),
    );
    const { output } = await bundleAndRun(
      'listed',
      `import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import { loadSigningKey, parseSyncConfig, resolveSignaturePolicy, selectTags, verifyBundle } from '@ghcr/client';
import { createLocalSigstore, GITHUB_IDENTITY, GITHUB_ISSUER } from '../../client/src/testing/local-sigstore.ts';

const out = {};
// yaml (parseDocument, LineCounter, isMap) and semver (validRange, satisfies, rcompare).
const config = parseSyncConfig("sync:\\n  - source: docker.io/library/alpine\\n    target: ghcr.io/o/alpine\\n    tags: { semver: '>=3.19 <4', newest: 2 }\\n");
out.sync = selectTags(['3.18.0', '3.19.1', '3.20.3', '3.21.0', 'latest'], config.pairs[0].tags).tags;
// tweetnacl (secretbox.open): cosign's encrypted key file.
const { publicKey } = loadSigningKey(readFileSync(${JSON.stringify(join(fixtures, 'encrypted-sigstore.key'))}, 'utf8'), 'hello');
out.cosignKey = publicKey.asymmetricKeyType;
// @sigstore/bundle, core, verify and protobuf-specs: a keyless bundle from a local Sigstore.
const sigstore = await createLocalSigstore();
const digest = 'sha256:' + 'a'.repeat(64);
const statement = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'ghcr.io/octo/app', digest: { sha256: 'a'.repeat(64) } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} };
const policy = resolveSignaturePolicy({ certificateIdentity: GITHUB_IDENTITY, certificateOidcIssuer: GITHUB_ISSUER, trustedRoot: sigstore.trustedRoot });
const result = verifyBundle(await sigstore.signStatement(statement), policy, { digest });
out.keyless = { verified: result.verified, reason: result.reason };
const other = verifyBundle(await sigstore.signStatement(statement, { identity: 'https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main' }), policy, { digest });
out.otherIdentity = other.verified;
// cli-progress (SingleBar, Presets) writing to a stream.
let written = '';
const stream = new Writable({ write(chunk, _encoding, done) { written += chunk; done(); } });
stream.isTTY = true;
stream.columns = 80;
stream.cursorTo = () => true;
stream.clearLine = () => true;
const bar = new cliProgress.SingleBar({ stream, noTTYOutput: true, format: '{value}/{total}' }, cliProgress.Presets.shades_classic);
bar.start(10, 3);
bar.stop();
out.progress = written.includes('3/10');
console.log(JSON.stringify(out));`,
      dirname(fileURLToPath(import.meta.url)),
      [undiciSlim, undiciWithoutHttp2, zodEnglishOnly, lazyCommonJs(), workspaceSources],
    );
    expect(output).toEqual({
      sync: ['3.21.0', '3.20.3'],
      cosignKey: 'ec',
      keyless: { verified: true, reason: expect.stringContaining('signed by https://github.com/octo/app/') },
      otherIdentity: false,
      progress: true,
    });
  }, 60_000);
});

describe('zodEnglishOnly and undiciWithoutHttp2', () => {
  it('keep zod’s English messages, drop its other locales, and leave HTTP/2 out of undici', async () => {
    const source = `import { z } from 'zod';
import { Agent } from 'undici';
const parsed = z.object({ n: z.number() }).safeParse({ n: 'x' });
const agent = new Agent();
await agent.close();
console.log(JSON.stringify({ message: parsed.error.issues[0].message, locales: Object.keys(z.locales) }));`;
    const client = join(packagesDirectory, 'client');
    const slim = await bundleAndRun('slim', source, client, [undiciSlim, undiciWithoutHttp2, zodEnglishOnly]);
    const full = await bundleAndRun('full', source, client, [undiciSlim]);
    expect(slim.output).toEqual({
      message: 'Invalid input: expected number, received string',
      locales: ['en'],
    });
    expect(slim.bundle).not.toContain('node:http2');
    expect(full.bundle).toContain('node:http2');
    expect(slim.bundle).toContain('HTTP/2 is not part of this bundle');
    expect((full.output as { locales: string[] }).locales.length).toBeGreaterThan(30);
    expect(full.bundle.length - slim.bundle.length).toBeGreaterThan(200_000);
  }, 60_000);
});

describe('undiciSlim', () => {
  it('runs undici (and the built-ins it loads, node:http among them) only when the program first uses it', async () => {
    const source = `import { Agent, request } from 'undici';
const loaded = () => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes('NativeModule http');
const before = loaded();
const agent = new Agent();
const after = loaded();
await agent.close();
console.log(JSON.stringify({ before, after, request: typeof request }));`;
    const client = join(packagesDirectory, 'client');
    const output = await bundleAndRun('undici-lazy', source, client, [undiciSlim, undiciWithoutHttp2]);
    expect(output.output).toEqual({ before: false, after: true, request: 'function' });
    expect(output.bundle).toContain('llhttp');
  }, 60_000);

  it('with undiciBeside, keeps undici out of the bundle, in undici.cjs beside it, required on first use', async () => {
    const source = `import { Agent } from 'undici';
const loaded = () => (process as unknown as { moduleLoadList: string[] }).moduleLoadList.includes('NativeModule http');
const before = loaded();
const agent = new Agent();
const after = loaded();
await agent.close();
console.log(JSON.stringify({ before, after, dispatch: typeof agent.dispatch }));`;
    const client = join(packagesDirectory, 'client');
    const outdir = join(directory, 'undici-beside');
    await mkdir(outdir, { recursive: true });
    await bundleTo(join(outdir, 'program.mjs'), source, client, [
      undiciBeside,
      undiciSlim,
      undiciWithoutHttp2,
    ]);
    const bundle = await readFile(join(outdir, 'program.mjs'), 'utf8');
    expect(bundle).not.toContain('llhttp');
    expect(bundle).toContain(`require("./${UNDICI_FILE}")`);
    // Without the file beside it, the first use fails: the bundle holds no undici of its own.
    const missing = await run(process.execPath, [join(outdir, 'program.mjs')], { cwd: outdir }).catch(
      (error: { stderr: string }) => error.stderr,
    );
    expect(missing).toContain(`Cannot find module './${UNDICI_FILE}'`);
    await buildUndiciFile(join(outdir, UNDICI_FILE));
    expect(await readFile(join(outdir, UNDICI_FILE), 'utf8')).toContain('llhttp');
    const { stdout } = await run(process.execPath, [join(outdir, 'program.mjs')], { cwd: directory });
    expect(JSON.parse(stdout)).toEqual({ before: false, after: true, dispatch: 'function' });
  }, 60_000);
});

describe('commanderSpawnOnUse', () => {
  it('leaves node:child_process unloaded until commander spawns, and spawning still works', async () => {
    // A program with an executable subcommand (`prog hello` runs prog-hello.mjs beside it) and
    // one of its own that reports whether child_process was loaded by then.
    const source = `import { Command } from 'commander';
const program = new Command('prog');
program.command('hello', 'runs prog-hello.mjs');
program.command('loaded').action(() => {
  const loaded = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  console.log(JSON.stringify({ childProcess: loaded.includes('NativeModule child_process') }));
});
await program.parseAsync();`;
    const cli = dirname(fileURLToPath(import.meta.url));
    const outputs: Record<string, unknown> = {};
    for (const [name, plugins] of [
      ['lazy', [commanderSpawnOnUse]],
      ['eager', []],
    ] as const) {
      const outdir = join(directory, `commander-${name}`);
      await mkdir(outdir, { recursive: true });
      const outfile = join(outdir, 'prog.mjs');
      await bundleTo(outfile, source, cli, plugins);
      await writeFile(
        join(outdir, 'prog-hello.mjs'),
        'console.log(JSON.stringify({ hello: process.argv.slice(2) }));',
      );
      const loaded = await run(process.execPath, [outfile, 'loaded'], { cwd: outdir });
      const spawned = await run(process.execPath, [outfile, 'hello', 'a', 'b'], { cwd: outdir });
      outputs[name] = { ...JSON.parse(loaded.stdout), ...JSON.parse(spawned.stdout) };
    }
    expect(outputs).toEqual({
      lazy: { childProcess: false, hello: ['a', 'b'] },
      eager: { childProcess: true, hello: ['a', 'b'] },
    });
  }, 60_000);
});

describe('workspaceSources', () => {
  /** Bundles `source` into chunks as the executable is; the text of what its entry loads at start, and of every chunk. */
  async function splitBundle(
    name: string,
    source: string,
  ): Promise<{ entry: string; atStart: string; everything: string }> {
    const outdir = join(directory, name);
    await build({
      stdin: { contents: source, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: 'ts' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outdir,
      entryNames: 'entry',
      banner: { js: REQUIRE_BANNER },
      logLevel: 'silent',
      plugins: [workspaceSources, undiciSlim, undiciWithoutHttp2, zodEnglishOnly, lazyCommonJs()],
    });
    await writeFile(join(outdir, 'package.json'), JSON.stringify({ type: 'module' }));
    // The entry's static imports, followed: what Node parses before the program's first line runs.
    const texts = new Map<string, string>();
    const pending = ['entry.js'];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (texts.has(file)) continue;
      const text = await readFile(join(outdir, file), 'utf8');
      texts.set(file, text);
      for (const match of text.matchAll(/(?:^|[;\s}])(?:import|from)\s*"\.\/([^"]+)"/g))
        pending.push(match[1] as string);
    }
    const all = await Promise.all(
      (await readdir(outdir))
        .filter((file) => file.endsWith('.js'))
        .map((file) => readFile(join(outdir, file), 'utf8')),
    );
    return {
      entry: join(outdir, 'entry.js'),
      atStart: [...texts.values()].join('\n'),
      everything: all.join('\n'),
    };
  }

  // A program that makes a client (imported from `entry`) and calls sync only when asked to.
  const program = (entry: string): string => `import { createGhcrClient } from '${entry}';
const client = createGhcrClient({ registry: '127.0.0.1:9' });
if (process.argv[2] === 'sync') {
  try {
    await client.sync('sync: [');
  } catch (error) {
    console.log(error.name);
  }
}
await client.close();`;
  // One string from each capability the client loads on first use (their error messages).
  const MARKERS = [
    'not valid YAML', // sync/config.ts
    "cosign's certificate or Rekor bundle annotation is malformed", // signatures/verify.ts
    'cosign container image signature', // signatures/verify.ts
    'only SARIF 2.1.0 is read', // github/vulnerabilities/sarif.ts
  ];

  it('from @ghcr/client/core, the capabilities loaded on first use are in chunks of their own that nothing loads at start', async () => {
    const bundle = await splitBundle('client-core', program('@ghcr/client/core'));
    for (const marker of MARKERS) {
      expect(bundle.everything).toContain(marker);
      expect(bundle.atStart).not.toContain(marker);
    }
    // The first call loads sync's code and runs it: the config's YAML error, from its own chunk.
    const { stdout } = await run(process.execPath, [bundle.entry, 'sync'], { cwd: directory });
    expect(stdout.trim()).toBe('SyncConfigError');
  }, 60_000);

  it('from @ghcr/client, the same program loads them at start (what the core entry is for)', async () => {
    const bundle = await splitBundle('client-index', program('@ghcr/client'));
    for (const marker of MARKERS) expect(bundle.atStart).toContain(marker);
  }, 60_000);

  it('a module the package does not publish is not taken from its sources', async () => {
    // packages/client/src/client.ts exists, but the exports map names no `./client`.
    await expect(
      splitBundle(
        'unpublished',
        "import { createGhcrClient } from '@ghcr/client/client';\nconsole.log(createGhcrClient);",
      ),
    ).rejects.toThrow(/@ghcr\/client\/client/);
  }, 60_000);

  it('a name @ghcr/client/core leaves out fails the build, naming it', async () => {
    await expect(
      splitBundle(
        'missing-name',
        "import { parseSyncConfig } from '@ghcr/client/core';\nconsole.log(parseSyncConfig);",
      ),
    ).rejects.toThrow(/parseSyncConfig/);
  }, 60_000);
});
