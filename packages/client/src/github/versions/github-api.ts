/**
 * One GitHub REST API request through the client's transport (`auth: github-api`: a Bearer token
 * from the client's credentials, the write-points budget, the primary/secondary rate limits),
 * JSON read under a size cap, validated with a zod schema, refusals explained, and every page of a
 * list followed through `Link: <…>; rel="next"`.
 */

import { definedProps, GhcrErrorCode, ProtocolError } from '@ghcr/oci-types';
import type { Transport, TransportResponse } from '@ghcr/transport';
import type * as z from 'zod';
import { nextLink } from '../../registry/link-header.js';
import { readCapped } from '../../registry/read-body.js';
import { discard } from '../../registry/responses.js';
import { type ApiTarget, explainApiError } from './api-errors.js';

/** A GitHub list page of 100 objects is well under this. */
const MAX_API_BODY_BYTES = 16 * 1024 * 1024;
/** A Link chain longer than this is broken (100 per page: ten million objects). */
const MAX_PAGES = 100_000;

/**
 * What every API request of one `Versions` shares.
 * @internal
 */
export interface GithubApi {
  readonly transport: Pick<Transport, 'send'>;
  readonly apiVersion: string;
}

/**
 * One API request.
 * @internal
 */
export interface ApiRequest {
  /** Operation name for metrics and spans (`versions.list`). */
  readonly operation: string;
  readonly method: 'GET' | 'DELETE' | 'POST';
  readonly url: string;
  readonly target: ApiTarget;
  readonly signal?: AbortSignal | undefined;
}

function headers(api: GithubApi): Record<string, string> {
  return { accept: 'application/vnd.github+json', 'x-github-api-version': api.apiVersion };
}

/** Sends a request; a refusal is thrown explained. @internal */
export async function sendApi(api: GithubApi, request: ApiRequest): Promise<TransportResponse> {
  try {
    return await api.transport.send({
      operation: request.operation,
      method: request.method,
      url: request.url,
      headers: headers(api),
      auth: { kind: 'github-api' },
      ...definedProps({ signal: request.signal }),
    });
  } catch (error) {
    throw explainApiError(error, request.target);
  }
}

/** Sends a request whose answer has no body worth reading (204). @internal */
export async function sendApiNoContent(api: GithubApi, request: ApiRequest): Promise<void> {
  await discard(await sendApi(api, request));
}

/**
 * Validates a decoded API object against a schema. A mismatch is a ProtocolError naming the field
 * (GitHub changed the object's shape, or the URL is not GitHub's API).
 * @internal
 */
export function validateApiObject<S extends z.ZodType>(
  api: GithubApi,
  schema: S,
  value: unknown,
  what: string,
  request: ApiRequest,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new ProtocolError(
    `${request.method} "${request.url}": GitHub's answer is not ${what} as @ghcr/client knows it (${
      field === '' ? '' : `at "${field}": `
    }${issue?.message ?? 'invalid'}). GitHub may have changed the object (X-GitHub-Api-Version ${
      api.apiVersion
    } was sent), or apiUrl does not point at a GitHub REST API; update @ghcr/client, or check apiUrl and apiVersion.`,
    { code: GhcrErrorCode.UNEXPECTED_RESPONSE, cause: parsed.error },
  );
}

async function readJson(response: TransportResponse, request: ApiRequest): Promise<unknown> {
  const bytes = await readCapped(
    response,
    MAX_API_BODY_BYTES,
    `the answer to ${request.method} "${request.url}"`,
    'a GitHub API page is far smaller; check apiUrl',
  );
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw new ProtocolError(
      `${request.method} "${request.url}": the answer is not JSON; check that apiUrl points at a GitHub REST API`,
      { code: GhcrErrorCode.UNEXPECTED_RESPONSE, cause: error },
    );
  }
}

/** GETs one object and validates it. @internal */
export async function getApiObject<S extends z.ZodType>(
  api: GithubApi,
  request: ApiRequest,
  schema: S,
  what: string,
): Promise<z.output<S>> {
  const response = await sendApi(api, request);
  return validateApiObject(api, schema, await readJson(response, request), what, request);
}

/**
 * GETs every page of a list (following `Link: <…>; rel="next"`), validating each item, yielding
 * page by page. Stops on a Link that leads back to a page already read.
 * @internal
 */
export async function* apiPages<S extends z.ZodType>(
  api: GithubApi,
  first: ApiRequest,
  schema: S,
  what: string,
): AsyncGenerator<z.output<S>[]> {
  const seen = new Set<string>();
  for (let url: string | undefined = first.url; url !== undefined; ) {
    if (seen.has(url) || seen.size >= MAX_PAGES) {
      throw new ProtocolError(
        `${first.method} "${first.url}": GitHub's Link header leads back to a page already read (${seen.size} pages); its pagination is broken`,
        { code: GhcrErrorCode.UNEXPECTED_RESPONSE },
      );
    }
    seen.add(url);
    const request: ApiRequest = { ...first, url };
    const response = await sendApi(api, request);
    const link = response.headers.link;
    const body = await readJson(response, request);
    if (!Array.isArray(body)) {
      throw new ProtocolError(
        `${request.method} "${request.url}": GitHub's answer is not a JSON array of ${what}s; check apiUrl`,
        { code: GhcrErrorCode.UNEXPECTED_RESPONSE },
      );
    }
    yield body.map((item) => validateApiObject(api, schema, item, what, request));
    url = nextLink(link, url);
  }
}
