/**
 * Helpers for this package's tests (not exported from the package).
 * @internal
 */
import { createManualClock, type ManualClock } from '@ghcr/oci-types';
import { type Dispatcher, request } from 'undici';
import type { SimulationOptions } from '../options.js';
import { createSimulation, type Simulation } from '../simulation.js';

/** @internal */
export interface CallResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  readonly text: string;
  json<T = unknown>(): T;
  header(name: string): string | undefined;
}

/** @internal */
export interface CallOptions {
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array | AsyncIterable<Uint8Array> | null;
  /** A PAT sent as `Authorization: Bearer base64(PAT)` (ghcr shortcut). */
  readonly pat?: string;
  /** A registry token sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Base URL; if omitted, the simulation's registry URL. */
  readonly base?: string;
  readonly dispatcher?: Dispatcher;
}

/** @internal */
export interface TestBed {
  readonly sim: Simulation;
  readonly clock: ManualClock;
  readonly dispatcher: Dispatcher;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** Exchanges a PAT (Basic) for a registry token with these scopes. */
  token(pat: string | undefined, ...scopes: string[]): Promise<string>;
}

/** @internal */
export function createTestBed(options: SimulationOptions = {}): TestBed {
  const clock = createManualClock();
  const sim = createSimulation({ clock, ...options });
  const dispatcher = sim.dispatcher();
  return {
    sim,
    clock,
    dispatcher,
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.pat !== undefined)
        headers.authorization = `Bearer ${Buffer.from(callOptions.pat).toString('base64')}`;
      if (callOptions.token !== undefined) headers.authorization = `Bearer ${callOptions.token}`;
      const url = /^https?:\/\//.test(path) ? path : `${callOptions.base ?? sim.options.registryUrl}${path}`;
      const response = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: (callOptions.body ?? null) as string | Uint8Array | null,
        dispatcher: callOptions.dispatcher ?? dispatcher,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const responseHeaders = response.headers as Record<string, string | string[] | undefined>;
      return {
        status: response.statusCode,
        headers: responseHeaders,
        body,
        text: body.toString('utf8'),
        json: <T>() => JSON.parse(body.toString('utf8')) as T,
        header: (name: string) => {
          const value = responseHeaders[name.toLowerCase()];
          return Array.isArray(value) ? value.join(', ') : value;
        },
      };
    },
    async token(pat, ...scopes) {
      const query = new URLSearchParams({ service: sim.options.tokenService });
      for (const scope of scopes) query.append('scope', scope);
      const response = await request(`${sim.options.tokenUrl}?${query.toString()}`, {
        headers:
          pat === undefined
            ? {}
            : { authorization: `Basic ${Buffer.from(`anyone:${pat}`).toString('base64')}` },
        dispatcher,
      });
      const body = (await response.body.json()) as { token?: string };
      if (response.statusCode !== 200 || body.token === undefined)
        throw new Error(`token endpoint answered ${response.statusCode}`);
      return body.token;
    },
  };
}

/** Uploads bytes with POST + PUT (monolithic) and returns the digest. @internal */
export async function uploadBlob(
  bed: TestBed,
  name: string,
  bytes: Uint8Array | string,
  auth: { readonly pat?: string; readonly token?: string },
): Promise<`${string}:${string}`> {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const { digestOf } = await import('@ghcr/oci-types');
  const digest = digestOf(data);
  const started = await bed.call('POST', `/v2/${name}/blobs/uploads/`, auth);
  if (started.status !== 202) throw new Error(`POST answered ${started.status}: ${started.text}`);
  const location = new URL(started.header('location') ?? '', bed.sim.options.registryUrl);
  location.searchParams.set('digest', digest);
  const put = await bed.call('PUT', location.toString(), {
    ...auth,
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`PUT answered ${put.status}: ${put.text}`);
  return digest;
}
