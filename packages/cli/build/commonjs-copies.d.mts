// Types of commonjs-copies.mjs, for the tsup config and the tests that import it (TypeScript files).

/** `code`, one file of the ES module bundle (with its require banner), as CommonJS; throws where the copy could behave differently. */
export declare function commonJsCopy(code: string, name: string): Promise<string>;
/** Writes `x.cjs` beside every `x.js` of the bundle in `directory` but index.js; returns the names written. */
export declare function writeCommonJsCopies(directory: string): Promise<string[]>;
/** esbuild's options for code turned into CommonJS, shared by the bundle's copy and the launcher. */
export declare const COMMONJS_OPTIONS: Readonly<Record<string, unknown>>;
/** The line each CommonJS file starts with: "use strict" and its own URL. */
export declare const COMMONJS_BANNER: string;
