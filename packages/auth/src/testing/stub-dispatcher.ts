/**
 * A tiny in-process Dispatcher for token-manager tests: undici's own MockAgent (no network, no
 * msw) answering every origin through one function, with a request log.
 * @internal
 */

import { MockAgent } from 'undici';

/** @internal */
export interface StubRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** @internal */
export interface StubResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** @internal */
export interface StubDispatcher {
  readonly dispatcher: MockAgent;
  readonly log: StubRequest[];
}

function headersOf(raw: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  if (raw === undefined || raw === null) return headers;
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) headers[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
    return headers;
  }
  if (typeof (raw as Headers).forEach === 'function' && raw instanceof Headers) {
    raw.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return headers;
  }
  for (const [name, value] of Object.entries(raw as Record<string, unknown>))
    headers[name.toLowerCase()] = String(value);
  return headers;
}

/** Creates a stub whose answers come from `handle`; JSON-serialises non-string bodies. @internal */
export function createStubDispatcher(handle: (request: StubRequest) => StubResponse): StubDispatcher {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const log: StubRequest[] = [];
  agent
    .get(() => true)
    .intercept({ path: () => true, method: () => true })
    .reply((options) => {
      const request: StubRequest = {
        method: options.method,
        url: new URL(options.path, options.origin),
        headers: headersOf(options.headers),
        body: typeof options.body === 'string' ? options.body : '',
      };
      log.push(request);
      const response = handle(request);
      const body =
        response.body === undefined
          ? ''
          : typeof response.body === 'string'
            ? response.body
            : JSON.stringify(response.body);
      return {
        statusCode: response.status,
        data: body,
        responseOptions: { headers: { ...response.headers } },
      };
    })
    .persist();
  return { dispatcher: agent, log };
}

/** A base64url JWT (unsigned, as far as the client cares) with the given claims. @internal */
export function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}.c2lnbmF0dXJl`;
}
