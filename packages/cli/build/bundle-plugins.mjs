// esbuild plugins shared by the two bundles that ship ghcr as one program: the `ghcr` executable
// (packages/cli/tsup.config.ts) and the cleanup Action (apps/cleanup-action/tsup.config.ts).
// They change what the bundle loads at start, never what the code does: each command starts a new
// process, and code loaded at start is paid by every command (docs/benchmarks.md, "Start-up").
// The library packages are not built with these: they import their dependencies as they are.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The banner of an ES module bundle of CommonJS code (undici, commander…): such code calls
 * `require` for Node's built-ins, which an ES module lacks, so the bundle defines one first.
 */
export const REQUIRE_BANNER =
  "import { createRequire as __ghcrCreateRequire } from 'node:module'; const require = __ghcrCreateRequire(import.meta.url);";

/** The part of undici ghcr uses: its Agent and `request` (see undici-slim.cjs). */
const UNDICI_SLIM = fileURLToPath(new URL('./undici-slim.cjs', import.meta.url));

/**
 * CommonJS dependencies that only some commands use (sync's YAML and semver ranges, signing and
 * Sigstore verification, progress bars), loaded when first used instead of at start.
 */
const LAZY_COMMONJS = [
  'yaml',
  'semver',
  'tweetnacl',
  'cli-progress',
  '@sigstore/bundle',
  '@sigstore/core',
  '@sigstore/protobuf-specs',
  '@sigstore/verify',
];

/** The workspace's packages, which both bundles take from their sources (see {@link workspaceSources}). */
const WORKSPACE_PACKAGES = ['oci-types', 'manifest', 'auth', 'transport', 'client', 'simulation'];
const PACKAGES_DIR = fileURLToPath(new URL('../../', import.meta.url));

/**
 * `@ghcr/<package>` → that package's TypeScript sources (`packages/<package>/src/index.ts`; a
 * subpath, `@ghcr/client/core`, → `src/core.ts`), not its built `dist/`: the bundle is built from
 * the same commit's code, with no build order to get wrong, and esbuild sees every module on its
 * own, so it drops the modules nothing uses (the packages are `sideEffects: false`) and puts what
 * the client imports on first use (`await import(…)`: signatures, vulnerability reports and the
 * gate, sync) in chunks of their own. The executable imports `@ghcr/client/core`, which leaves
 * those out: through `@ghcr/client`'s re-exports of them, esbuild's code splitting would load them
 * at start, used or not.
 */
export const workspaceSources = {
  name: 'ghcr-workspace-sources',
  setup(build) {
    // Each package's exports map, read once per build (every `@ghcr/…` import resolves through it).
    const exportsOf = new Map();
    build.onResolve({ filter: /^@ghcr\/[a-z-]+(?:\/[a-z-]+)?$/ }, (args) => {
      const [name, subpath] = args.path.slice('@ghcr/'.length).split('/');
      if (!WORKSPACE_PACKAGES.includes(name)) return undefined;
      const packageDir = join(PACKAGES_DIR, name);
      if (!exportsOf.has(name)) {
        exportsOf.set(name, JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).exports ?? {});
      }
      // Only what the package publishes: a subpath its exports map names, as Node would resolve it.
      if (exportsOf.get(name)[subpath === undefined ? '.' : `./${subpath}`] === undefined) return undefined;
      const source = join(packageDir, 'src', `${subpath ?? 'index'}.ts`);
      return existsSync(source) ? { path: source } : undefined;
    });
  },
};

/**
 * A plugin that resolves an `import` of undici to a facade (as {@link lazyCommonJs} writes them)
 * whose first use requires `target`; `others` resolves any other reference to undici.
 */
function undiciFacade(name, target, others) {
  return {
    name,
    setup(build) {
      build.onResolve({ filter: /^undici$/ }, (args) =>
        args.kind === 'import-statement' ? { path: UNDICI_SLIM, namespace: name } : others,
      );
      build.onLoad({ filter: /.*/, namespace: name }, (args) => ({
        contents: facadeSource(target(args.path), createRequire(args.path)(args.path)),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
}

/**
 * `undici` → {@link UNDICI_SLIM}: fetch, WebSocket, EventSource, the cache and the mocks are never
 * loaded. An `import` of it gets a facade as {@link lazyCommonJs} writes them: undici runs on first
 * use, which a command whose requests (token requests included) all go out on the transport's own
 * connections never makes; only a dispatcher of its own (`ghcr serve`'s simulation) runs it.
 */
export const undiciSlim = undiciFacade('ghcr-undici-slim', (path) => path, { path: UNDICI_SLIM });

/** The file {@link undiciBeside} keeps undici in, beside the bundle's chunks. */
export const UNDICI_FILE = 'undici.cjs';

/**
 * `undici` (an `import` of it) → a facade as {@link undiciSlim} writes, whose first use requires
 * `./undici.cjs` beside the chunk: undici's code is then in no chunk, so a command that never uses
 * it does not even compile it (about 350 kB; 7.5 ms to compile on the benchmark machine). Goes
 * before `undiciSlim` in the plugin list (which still takes a `require` of undici), and the build
 * writes that file with {@link buildUndiciFile} into the same directory as the chunks.
 */
const beside = undiciFacade('ghcr-undici-beside', () => `./${UNDICI_FILE}`, undefined);
export const undiciBeside = {
  name: beside.name,
  setup(build) {
    beside.setup(build);
    build.onResolve({ filter: /^\.\/undici\.cjs$/ }, (args) =>
      args.namespace === beside.name ? { path: `./${UNDICI_FILE}`, external: true } : undefined,
    );
  },
};

/**
 * Writes {@link UNDICI_SLIM} with the undici it requires as one CommonJS file, `outfile` (HTTP/2
 * left out as {@link undiciWithoutHttp2} does): the file {@link undiciBeside}'s facades require.
 */
export async function buildUndiciFile(outfile) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: [UNDICI_SLIM],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile,
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    plugins: [undiciWithoutHttp2],
  });
}

/**
 * undici's HTTP/2 client, in place of which the bundle has a module that throws. undici loads it
 * (and with it `node:http2`) at start, and uses it only when a connection negotiates h2, which
 * needs `allowH2`: ghcr's transport never sets it, so every connection is HTTP/1.1.
 */
export const undiciWithoutHttp2 = {
  name: 'ghcr-undici-without-http2',
  setup(build) {
    build.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) =>
      /[\\/]undici[\\/]lib[\\/]dispatcher$/.test(args.resolveDir)
        ? { path: 'undici-client-h2', namespace: 'ghcr-without-http2' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'ghcr-without-http2' }, () => ({
      contents:
        "module.exports = function connectH2() { throw new Error('ghcr: HTTP/2 is not part of this bundle (the transport never sets allowH2)'); };",
      loader: 'js',
    }));
  },
};

/**
 * commander's `node:child_process`, loaded when commander first spawns (which it does only for a
 * subcommand in an executable of its own: ghcr has none). commander requires it at load, and with
 * it Node loads `child_process`, `dgram` and their internals at every command's start. Done in
 * commander's source (tsup resolves `node:` built-ins before any plugin sees them); a commander
 * whose source no longer has that line fails the build rather than being left as it is.
 */
export const commanderSpawnOnUse = {
  name: 'ghcr-commander-spawn-on-use',
  setup(build) {
    const line = "const childProcess = require('node:child_process');";
    build.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(line)) {
        throw new Error(`commanderSpawnOnUse: ${args.path} no longer has "${line}"; update the plugin`);
      }
      // The stand-in has `spawn` only: a commander that uses anything else of the module fails too.
      const uses = source.match(/childProcess\.\w+/g) ?? [];
      if (uses.some((use) => use !== 'childProcess.spawn')) {
        throw new Error(`commanderSpawnOnUse: ${args.path} uses ${uses.join(', ')}; update the plugin`);
      }
      return {
        contents: source.replace(
          line,
          "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
        ),
        loader: 'js',
      };
    });
  },
};

/**
 * zod's index re-exports every locale's messages as `z.locales` (about 40 languages, a third of
 * zod's bundled code). ghcr writes its own messages and sets no locale, so the bundle keeps the
 * English one (the default zod configures itself with) and none of the others.
 */
export const zodEnglishOnly = {
  name: 'ghcr-zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/index.js'), namespace: 'ghcr-zod-english-only' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'ghcr-zod-english-only' }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Each of `packages` (CommonJS) is bundled behind a facade that loads it on first use. An ES module
 * that imports a CommonJS one runs it at once (esbuild's `__toESM(require_x())` at the top of the
 * importer), so without this every command would run YAML, semver and Sigstore's code at start.
 * The facade exports the same names; each is a Proxy that runs the real module the first time it
 * is called, constructed or read from (`semver.satisfies(...)`, `new LineCounter()`,
 * `X509Certificate.parse(...)`). Exports that are not objects or functions (constants) are
 * copied as values at build time. The names are read at build time by requiring the package.
 */
export function lazyCommonJs(packages = LAZY_COMMONJS) {
  const names = new Set(packages);
  return {
    name: 'ghcr-lazy-commonjs',
    setup(build) {
      build.onResolve({ filter: /^[@a-z]/ }, (args) => {
        if (!names.has(args.path) || args.kind !== 'import-statement') return undefined;
        const real = createRequire(join(args.resolveDir, 'importer.js')).resolve(args.path);
        return { path: real, namespace: 'ghcr-lazy-commonjs' };
      });
      build.onLoad({ filter: /.*/, namespace: 'ghcr-lazy-commonjs' }, (args) => ({
        contents: facadeSource(args.path, createRequire(args.path)(args.path)),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
    },
  };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The facade module of the CommonJS module at `path`, whose exports are `exported`. */
function facadeSource(path, exported) {
  const lines = [
    `const load = () => require(${JSON.stringify(path)});`,
    // A Proxy of a stand-in of the same kind (a function can be called and constructed, an object
    // not), forwarding everything to the real value, which `pick` loads. The function stand-in is
    // bound: it can be constructed and has no own prototype property, which a Proxy's key listing
    // would otherwise have to report whatever the real value has.
    'const bind = (isFunction, pick) =>',
    '  new Proxy(isFunction ? function () {}.bind(null) : {}, {',
    '    get: (_, key) => Reflect.get(pick(), key),',
    '    has: (_, key) => Reflect.has(pick(), key),',
    '    ownKeys: () => Reflect.ownKeys(pick()),',
    '    getOwnPropertyDescriptor: (_, key) => {',
    '      const descriptor = Reflect.getOwnPropertyDescriptor(pick(), key);',
    '      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };',
    '    },',
    '    getPrototypeOf: () => Reflect.getPrototypeOf(pick()),',
    '    apply: (_, self, args) => Reflect.apply(pick(), self, args),',
    '    construct: (_, args, newTarget) => Reflect.construct(pick(), args, newTarget),',
    '  });',
  ];
  // `import x from 'cjs'` is the module's exports, or its `default` when it was compiled from ESM.
  if (exported.__esModule === true && exported.default !== undefined)
    lines.push(`export default bind(${typeof exported.default === 'function'}, () => load().default);`);
  else lines.push(`export default bind(${typeof exported === 'function'}, load);`);
  for (const [name, value] of Object.entries(exported)) {
    if (name === 'default' || name === '__esModule' || !IDENTIFIER.test(name)) continue;
    if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
      lines.push(
        `export const ${name} = bind(${typeof value === 'function'}, () => load()[${JSON.stringify(name)}]);`,
      );
    } else {
      lines.push(`export const ${name} = ${literal(name, value)};`);
    }
  }
  return lines.join('\n');
}

/** A constant export as source text, copied at build time. */
function literal(name, value) {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    default:
      throw new Error(
        `ghcr-lazy-commonjs: cannot copy the export "${name}" (${typeof value}); take its package off the list`,
      );
  }
}
