// Types of bundle-plugins.mjs, for the two tsup configs that import it (TypeScript files).

/** An esbuild plugin (structurally: tsup's `esbuildPlugins` takes these). */
export interface BundlePlugin {
  readonly name: string;
  setup(build: unknown): void;
}

/** The path of undici-slim.cjs: undici's Agent and `request`, what ghcr uses of undici. */
export declare const UNDICI_SLIM: string;
/** The CommonJS dependencies {@link lazyCommonJs} loads on first use by default. */
export declare const LAZY_COMMONJS: readonly string[];
/** `undici` → undici-slim.cjs. */
export declare const undiciSlim: BundlePlugin;
/** undici's HTTP/2 client (and `node:http2`) left out: the transport never sets `allowH2`. */
export declare const undiciWithoutHttp2: BundlePlugin;
/** zod's English messages only: the other locales are left out. */
export declare const zodEnglishOnly: BundlePlugin;
/** Each of `packages` (CommonJS) behind a facade that loads it on first use. */
export declare function lazyCommonJs(packages?: readonly string[]): BundlePlugin;
