import { isIP } from 'node:net';
import {
  ConfigError,
  definedProps,
  GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  redactText,
  TransportError,
} from '@ghcr/oci-types';
import { tlsCertificateProblem } from '@ghcr/transport';
import { CommanderError } from 'commander';
import { ExitCode } from './exit-codes.js';

/**
 * The code of a command-line usage error (bad flag, missing argument, unknown command).
 * @public
 */
export const USAGE_ERROR_CODE = GhcrErrorCode.USAGE;

/**
 * A usage error: exits 2. Its message says what was wrong with the command line and how to fix it.
 * @internal
 */
export function usageError(message: string, options: { readonly cause?: unknown } = {}): InvalidInputError {
  return new InvalidInputError(message, {
    code: USAGE_ERROR_CODE,
    ...definedProps({ cause: options.cause }),
  });
}

/**
 * An error as the CLI reports it.
 * @public
 */
export interface DescribedError {
  /** A distribution-spec code (`MANIFEST_UNKNOWN`) or a `GHCR_*` code. */
  readonly code: string;
  /** What happened (and, usually, what to do), one line, secrets redacted. */
  readonly message: string;
  /** What to do, when the CLI knows better than the library (e.g. which command logs in). */
  readonly hint?: string;
  /** The exit code the run ends with. */
  readonly exitCode: number;
}

/** What the error formatter needs to know about the run. @internal */
export interface ErrorContext {
  /** Credentials and tokens in use: replaced by `REDACTED` wherever they would appear. */
  readonly secrets: Iterable<string>;
  /** The command that ran (`tags`), for "see ghcr <command> --help". */
  readonly command?: string;
}

const AUTH_CODES = new Set([
  'UNAUTHORIZED',
  'DENIED',
  'GHCR_UNAUTHORIZED',
  'GHCR_AUTH_FAILED',
  'GHCR_TOKEN_EXPIRED',
  'GHCR_FORBIDDEN',
]);
const UNREACHABLE_CODES = new Set(['GHCR_CONNECTION_FAILED', 'GHCR_TIMEOUT']);

function oneLine(text: string): string {
  return text.replace(/\s*\r?\n\s*/g, ' ').trim();
}

function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

/**
 * True for errors caused by the command line rather than by the operation: commander's parse
 * errors, and invalid input or configuration that did not come from a server's response.
 * @internal
 */
export function isUsageError(error: unknown): boolean {
  if (error instanceof CommanderError) return error.exitCode !== 0;
  if (InvalidInputError.isInstance(error) || ConfigError.isInstance(error)) {
    return (error as GhcrError).http === undefined;
  }
  return false;
}

/** The request URL of an error: its HTTP context, or the `METHOD "url"` its message starts with. */
function requestUrlOf(error: GhcrError): string | undefined {
  return error.http?.url ?? /^[A-Z]+ "(https?:\/\/[^"\s]+)"/.exec(error.message)?.[1];
}

/**
 * Whether a host may be a registry without TLS (a local or private one: an IP address, a name
 * without dots, `.local`/`.internal`/`.lan`, or an explicit port other than 443). A public name on
 * 443, such as ghcr.io, never gets the advice to turn TLS off.
 */
function mayBePlainHttp(host: string): boolean {
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port !== undefined && port !== '443') return true;
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return isIP(name) !== 0 || !name.includes('.') || /\.(local|internal|lan|localhost)$/.test(name);
}

function hintFor(error: GhcrError, context: ErrorContext): string | undefined {
  const url = requestUrlOf(error);
  const host = hostOf(url);
  if (AUTH_CODES.has(error.code) && context.command !== 'login') {
    const registry = host ?? '<registry>';
    const environment =
      registry === 'ghcr.io' ? ', or set GHCR_TOKEN to a token with the packages scopes' : '';
    return `Log in with "ghcr login ${registry}"${environment}; "--debug" shows which credentials were used.`;
  }
  if (UNREACHABLE_CODES.has(error.code)) {
    // The message already says what to do about a certificate (trust its CA); turning TLS off is
    // never the advice.
    if (tlsCertificateProblem(error) !== undefined) return undefined;
    const https = url?.startsWith('https:') === true;
    if (https && /WRONG_VERSION_NUMBER|wrong version number/.test(error.message)) {
      return 'The registry answered in plain HTTP, not HTTPS: add --plain-http.';
    }
    const connected = TransportError.isInstance(error) ? error.connected : undefined;
    // The library's message already says what fits (check the address, or retry / check a
    // proxy); the CLI adds what only it knows: its flags, and --plain-http only for a host that may
    // well speak it (local or private).
    const plainHttpHint = https && host !== undefined && mayBePlainHttp(host);
    if (connected === true) return '"--debug" shows every attempt.';
    if (connected === false) {
      return plainHttpHint ? 'For a registry that speaks plain HTTP, add --plain-http.' : undefined;
    }
    return `Check that the registry is running and the address is right${plainHttpHint ? '; for a registry that speaks plain HTTP, add --plain-http' : ''}.`;
  }
  if (error.family === 'server' || error.code === 'GHCR_CHUNK_FAILED') {
    return '"--debug" shows every attempt.';
  }
  if (error.code === 'MANIFEST_UNKNOWN' || error.code === 'NAME_UNKNOWN') {
    return 'Check the reference; "ghcr tags <repository>" lists the tags.';
  }
  if (isUsageError(error) && context.command !== undefined) {
    return `See "ghcr ${context.command} --help".`;
  }
  return undefined;
}

/**
 * Turns anything thrown during a run into its code, message, hint and exit code.
 * @internal
 */
export function describeError(error: unknown, context: ErrorContext): DescribedError {
  const redact = (text: string): string => oneLine(redactText(text, context.secrets));
  if (error instanceof CommanderError) {
    const message = redact(error.message.replace(/^error:\s*/i, ''));
    const help = context.command === undefined ? 'ghcr --help' : `ghcr ${context.command} --help`;
    return {
      code: USAGE_ERROR_CODE,
      message,
      hint: `Run "${help}" for usage.`,
      exitCode: error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage,
    };
  }
  if (GhcrError.isInstance(error)) {
    const hint = hintFor(error, context);
    return {
      code: error.code,
      message: redact(error.message),
      ...definedProps({ hint }),
      exitCode: isUsageError(error) ? ExitCode.Usage : ExitCode.Failed,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: 'GHCR_INTERNAL',
    message: redact(`unexpected failure: ${message}`),
    hint: 'This is a bug in ghcr: run again with --debug and report the output (secrets are redacted) at https://github.com/ghcr-ts/ghcr/issues.',
    exitCode: ExitCode.Failed,
  };
}

/**
 * The one line printed for an error: `error: <code>: <what happened>. <what to do>`.
 * @internal
 */
export function formatErrorLine(described: DescribedError): string {
  const message = described.message;
  if (described.hint === undefined) return `error: ${described.code}: ${message}`;
  const separator = /[.!?]$/.test(message) ? ' ' : '. ';
  return `error: ${described.code}: ${message}${separator}${described.hint}`;
}

/**
 * The `--debug` lines that follow the error line: the cause chain (each error's class, code, HTTP
 * context and message), redacted, and a stack for unexpected errors.
 * @internal
 */
export function causeChainLines(error: unknown, secrets: Iterable<string>): string[] {
  const list = [...secrets];
  const redact = (text: string): string => oneLine(redactText(text, list));
  const lines: string[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (seen.has(current)) break;
    seen.add(current);
    const prefix = depth === 0 ? 'debug: error' : 'debug: caused by';
    if (GhcrError.isInstance(current)) {
      const http = current.http;
      const where =
        http === undefined
          ? ''
          : ` [${http.method} ${http.url} → ${http.status}${http.requestId === undefined ? '' : `, request id ${http.requestId}`}]`;
      lines.push(`${prefix}: ${current.name} ${current.code}${where}: ${redact(current.message)}`);
      for (const entry of http?.registryErrors ?? []) {
        lines.push(
          `debug:   registry error ${entry.code}${entry.message === undefined ? '' : `: ${redact(entry.message)}`}`,
        );
      }
      if (http?.apiMessage !== undefined) lines.push(`debug:   API message: ${redact(http.apiMessage)}`);
    } else if (current instanceof Error) {
      const code = (current as { code?: unknown }).code;
      lines.push(
        `${prefix}: ${current.name}${typeof code === 'string' ? ` ${code}` : ''}: ${redact(current.message)}`,
      );
      if (depth === 0 && current.stack !== undefined && !(current instanceof CommanderError)) {
        for (const frame of current.stack.split('\n').slice(1, 8)) lines.push(`debug:   ${redact(frame)}`);
      }
    } else {
      lines.push(`${prefix}: ${redact(String(current))}`);
    }
    current = current instanceof Error ? current.cause : undefined;
  }
  return lines;
}
