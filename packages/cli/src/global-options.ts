import { InvalidArgumentError } from 'commander';
import { usageError } from './errors.js';

/** The GitHub REST API of github.com, the default API URL. @internal */
export const DEFAULT_API_URL = 'https://api.github.com';

/**
 * The options every command takes (`--json --plain-http --api-url URL --concurrency N --debug
 * --quiet`), after defaults.
 * @public
 */
export interface GlobalOptions {
  /** Print one JSON document per command (see the README for each shape). */
  readonly json: boolean;
  /** Speak plain HTTP to every registry (automatic for localhost, 127.0.0.1 and [::1] anyway). */
  readonly plainHttp: boolean;
  /** GitHub REST base URL: `--api-url`, else `GITHUB_API_URL`, else `https://api.github.com`. */
  readonly apiUrl: string;
  /** Parallel requests of one operation. If omitted, the client's default (4). */
  readonly concurrency?: number;
  /** Print every HTTP request (redacted) and, on failure, the cause chain. */
  readonly debug: boolean;
  /** Print results and errors only: no notes, no progress. */
  readonly quiet: boolean;
}

/** Largest `--concurrency` the client accepts. */
const MAX_CONCURRENCY = 64;

/**
 * Commander argument parser for `--concurrency`: an integer from 1 to 64.
 * @internal
 */
export function parseConcurrency(value: string): number {
  const parsed = Number(value);
  if (
    !/^\d+$/.test(value.trim()) ||
    !Number.isSafeInteger(parsed) ||
    parsed < 1 ||
    parsed > MAX_CONCURRENCY
  ) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_CONCURRENCY}, got "${value}".`);
  }
  return parsed;
}

/**
 * Resolves the global options from commander's parsed values and the environment.
 * @throws InvalidInputError (`GHCR_USAGE`) when the API URL is not an http(s) URL.
 * @internal
 */
export function resolveGlobalOptions(
  raw: Readonly<Record<string, unknown>>,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const flagUrl = typeof raw.apiUrl === 'string' ? raw.apiUrl : undefined;
  const envUrl =
    env.GITHUB_API_URL !== undefined && env.GITHUB_API_URL.trim() !== '' ? env.GITHUB_API_URL : undefined;
  const apiUrl = checkApiUrl(
    flagUrl ?? envUrl ?? DEFAULT_API_URL,
    flagUrl !== undefined ? '--api-url' : 'GITHUB_API_URL',
  );
  return {
    json: raw.json === true,
    plainHttp: raw.plainHttp === true,
    apiUrl,
    ...(typeof raw.concurrency === 'number' ? { concurrency: raw.concurrency } : {}),
    debug: raw.debug === true,
    quiet: raw.quiet === true,
  };
}

function checkApiUrl(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw usageError(
      `${from} "${value}" is not a URL; give the GitHub REST base URL, e.g. https://api.github.com or https://github.example.com/api/v3`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw usageError(`${from} "${value}" is not an http(s) URL; give e.g. https://api.github.com`);
  }
  if (url.username !== '' || url.password !== '') {
    throw usageError(`${from} must not carry credentials in the URL; they come from the credential chain`);
  }
  return url.toString().replace(/\/+$/, '');
}
