// Types of bundle-plugins.mjs, for the two tsup configs that import it (TypeScript files).

/** An esbuild plugin (structurally: tsup's `esbuildPlugins` takes these). */
export interface BundlePlugin {
  readonly name: string;
  setup(build: unknown): void;
}

/** The banner that defines `require` in an ES module bundle of CommonJS code. */
export declare const REQUIRE_BANNER: string;
/** `undici` → undici-slim.cjs, behind a facade that runs it on first use. */
export declare const undiciSlim: BundlePlugin;
/** The file `undiciBeside` keeps undici in, beside the bundle's chunks. */
export declare const UNDICI_FILE: string;
/** `undici` (imported) → a facade that requires `./undici.cjs` beside the chunk on first use; before `undiciSlim`. */
export declare const undiciBeside: BundlePlugin;
/** Writes undici-slim.cjs with the undici it requires as one CommonJS file (the one `undiciBeside` requires). */
export declare function buildUndiciFile(outfile: string): Promise<void>;
/** undici's HTTP/2 client (and `node:http2`) left out: the transport never sets `allowH2`. */
export declare const undiciWithoutHttp2: BundlePlugin;
/** commander's `node:child_process` loaded when commander first spawns, not at start. */
export declare const commanderSpawnOnUse: BundlePlugin;
/** zod's English messages only: the other locales are left out. */
export declare const zodEnglishOnly: BundlePlugin;
/** Each of `packages` (CommonJS; by default yaml, semver, tweetnacl, cli-progress, `@sigstore/*`) behind a facade that loads it on first use. */
export declare function lazyCommonJs(packages?: readonly string[]): BundlePlugin;
/** `@ghcr/<package>` (and a subpath such as `@ghcr/client/core`) from its TypeScript sources. */
export declare const workspaceSources: BundlePlugin;
