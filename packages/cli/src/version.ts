import { createRequire } from 'node:module';

/**
 * The version of `@ghcr/cli`, read from its package.json (one directory above both `src/` and
 * `dist/`, so it works from the sources and from the build).
 * @internal
 */
export function cliVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest = require('../package.json') as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : '0.0.0';
}
