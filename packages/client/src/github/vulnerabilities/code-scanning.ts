import {
  definedProps,
  lazySchema,
  normalizeSeverity,
  ProtocolError,
  type Vulnerability,
} from '@ghcr/oci-types';
import type { Transport } from '@ghcr/transport';
import * as z from 'zod';
import { nextLink } from '../../registry/link-header.js';
import type { ResolvedCodeScanningOptions } from './gate.js';
import { parseWith } from './invalid.js';
import { optional, packageFromMessage } from './util.js';

/** The GitHub REST API version these requests are written against. @internal */
export const GITHUB_API_VERSION = '2022-11-28';

/** Most pages read of one listing (100 per page): a bound against a server that never ends. */
const MAX_PAGES = 100;

/** A code-scanning alert (GET /repos/{owner}/{repo}/code-scanning/alerts), the parts read here. */
const alertSchema = lazySchema(() =>
  z.looseObject({
    number: z.number().int(),
    state: z.string().nullish(),
    rule: z.looseObject({
      id: z.string().min(1, { error: 'required: the alert names no rule' }),
      name: z.string().nullish(),
      severity: z.string().nullish(),
      security_severity_level: z.string().nullish(),
      description: z.string().nullish(),
    }),
    tool: z.looseObject({ name: z.string().nullish(), version: z.string().nullish() }),
    most_recent_instance: z
      .looseObject({
        ref: z.string().nullish(),
        category: z.string().nullish(),
        message: z.looseObject({ text: z.string().nullish() }).nullish(),
      })
      .nullish(),
    html_url: z.string().nullish(),
  }),
);

const analysisSchema = lazySchema(() =>
  z.looseObject({
    ref: z.string().nullish(),
    category: z.string().nullish(),
    tool: z.looseObject({ name: z.string().nullish() }).nullish(),
  }),
);

/**
 * Where GitHub API requests go and how they are sent.
 * @internal
 */
export interface GithubApiContext {
  readonly transport: Pick<Transport, 'send'>;
  /** `https://api.github.com`, or a GHES `https://host/api/v3`, without a trailing slash. */
  readonly apiBaseUrl: string;
}

/** Categories compare without GitHub's trailing slash (`.github/workflows/scan.yml:build/`). */
function sameCategory(a: string | null | undefined, b: string): boolean {
  const strip = (text: string): string => text.replace(/\/+$/, '');
  return a !== null && a !== undefined && strip(a) === strip(b);
}

function repositoryPath(options: ResolvedCodeScanningOptions): string {
  return `/repos/${encodeURIComponent(options.owner)}/${encodeURIComponent(options.repo)}/code-scanning`;
}

/**
 * Every item of a paginated GitHub listing (`per_page=100`, following `Link: rel="next"`).
 * @internal
 */
export async function githubPages(
  context: GithubApiContext,
  url: string,
  operation: string,
  signal: AbortSignal | undefined,
  /** Called with each page; true stops reading further pages. If omitted, every page is read. */
  stop?: (page: readonly unknown[]) => boolean,
): Promise<unknown[]> {
  const items: unknown[] = [];
  const seen = new Set<string>();
  let next: string | undefined = url;
  for (let page = 0; next !== undefined && page < MAX_PAGES && !seen.has(next); page++) {
    seen.add(next);
    const response = await context.transport.send({
      operation,
      method: 'GET',
      url: next,
      headers: { accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION },
      auth: { kind: 'github-api' },
      ...definedProps({ signal }),
    });
    const body = await response.body.json();
    if (!Array.isArray(body)) {
      throw new ProtocolError(
        `GET ${new URL(next).pathname}: expected a JSON array from the GitHub API, got ${body === null ? 'null' : typeof body}; check the API base URL`,
      );
    }
    items.push(...body);
    if (stop?.(body) === true) break;
    next = nextLink(response.headers.link, next);
  }
  return items;
}

function listUrl(context: GithubApiContext, options: ResolvedCodeScanningOptions, what: string): URL {
  const url = new URL(`${context.apiBaseUrl}${repositoryPath(options)}/${what}`);
  url.searchParams.set('per_page', '100');
  if (options.toolName !== undefined) url.searchParams.set('tool_name', options.toolName);
  if (options.ref !== undefined) url.searchParams.set('ref', options.ref);
  return url;
}

/**
 * Code-scanning alerts of a repository and ref, normalised (`source: 'code-scanning'`, no report
 * digest). The tool filter goes to the API (`tool_name`); the category is compared with each alert's
 * most recent instance (trailing `/` ignored). The severity is the rule's `security_severity_level`
 * (critical/high/medium/low), else its `severity` (`error` → high, `warning` → medium, `note` → low).
 * The package and versions are read from the alert message when it has Trivy's form.
 * Needs a token with `security_events` (or `public_repo` for public repositories).
 * @throws InvalidReportError (format `code-scanning`) when an alert is malformed; the API's own
 *   errors (403 without the scope, 404 when code scanning has no analysis) as the transport maps them.
 * @internal
 */
export async function listCodeScanningAlerts(
  context: GithubApiContext,
  options: ResolvedCodeScanningOptions,
  signal?: AbortSignal,
): Promise<Vulnerability[]> {
  const url = listUrl(context, options, 'alerts');
  url.searchParams.set('state', options.state);
  const items = await githubPages(context, url.href, 'vulnerabilities.codeScanningAlerts', signal);
  const vulnerabilities: Vulnerability[] = [];
  for (const [index, item] of items.entries()) {
    const alert = parseWith(alertSchema, item, 'code-scanning', `[${index}]`);
    const instance = alert.most_recent_instance;
    if (options.category !== undefined && !sameCategory(instance?.category, options.category)) continue;
    if (
      options.toolName !== undefined &&
      alert.tool.name !== undefined &&
      alert.tool.name !== null &&
      alert.tool.name.toLowerCase() !== options.toolName.toLowerCase()
    ) {
      continue;
    }
    const severity = normalizeSeverity(
      alert.rule.security_severity_level ?? alert.rule.severity ?? undefined,
    );
    vulnerabilities.push({
      id: alert.rule.id,
      severity,
      ...packageFromMessage(instance?.message?.text ?? undefined),
      ...optional('title', alert.rule.description),
      source: 'code-scanning',
    });
  }
  return vulnerabilities;
}

/**
 * True when the repository has a code-scanning analysis for the ref (and tool and category, when
 * given). Without one, an empty alert list means "never scanned", not "clean".
 * @internal
 */
export async function hasCodeScanningAnalysis(
  context: GithubApiContext,
  options: ResolvedCodeScanningOptions,
  signal?: AbortSignal,
): Promise<boolean> {
  const url = listUrl(context, options, 'analyses');
  const matches = (item: unknown, index: number): boolean => {
    const analysis = parseWith(analysisSchema, item, 'code-scanning', `analyses[${index}]`);
    return options.category === undefined || sameCategory(analysis.category, options.category);
  };
  let seen = 0;
  let found = false;
  await githubPages(context, url.href, 'vulnerabilities.codeScanningAnalyses', signal, (page) => {
    found = page.some((item, index) => matches(item, seen + index));
    seen += page.length;
    return found;
  });
  return found;
}
