// Types of bundle-plugins.mjs, for the two tsup configs that import it (TypeScript files).

/** An esbuild plugin (structurally: tsup's `esbuildPlugins` takes these). */
export interface BundlePlugin {
  readonly name: string;
  setup(build: unknown): void;
}

/** The banner that defines `require` in an ES module bundle of CommonJS code. */
export declare const REQUIRE_BANNER: string;
/** `undici` → undici-slim.cjs. */
export declare const undiciSlim: BundlePlugin;
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
