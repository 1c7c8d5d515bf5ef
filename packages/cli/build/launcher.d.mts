// Types of launcher.mjs, for the tsup config and the tests that import it (TypeScript files).

/** Builds `entry` (src/bin.ts) into `outfile` as one CommonJS file that loads the bundle's copy (`./start.cjs`); returns the code written. */
export declare function buildLauncher(entry: string, outfile: string): Promise<string>;
