/**
 * Test helpers: a simulation context built from CORE's parts (state, tokens, log) and a caller
 * that drives the API handlers through msw's `getResponse()`.
 */

import { createManualClock, digestOf, type ManualClock } from '@ghcr/oci-types';
import { getResponse } from 'msw';
import { createTokenService } from '../auth/tokens.js';
import type { SimulationContext } from '../context.js';
import { createGithubApiHandlers } from '../github-api/handlers.js';
import { createRequestLog } from '../log.js';
import { resolveSimulationOptions, type SimulationOptions } from '../options.js';
import { createMemoryBlobStore } from '../state/memory-store.js';
import type { ManifestRecord, PackageScope, RepositoryRecord } from '../state/records.js';
import { SimulationState } from '../state/simulation-state.js';

/** @internal */
export interface ApiTestBed {
  readonly clock: ManualClock;
  readonly state: SimulationState;
  readonly apiUrl: string;
  readonly operations: string[];
  token(user: string, scopes: PackageScope[]): string;
  push(
    repository: string,
    tag?: string,
    pusher?: string,
  ): { repository: RepositoryRecord; manifest: ManifestRecord };
  call(
    method: string,
    path: string,
    options?: { token?: string; authorization?: string; headers?: Record<string, string> },
  ): Promise<Response>;
}

/**
 * Builds a test bed over fresh state.
 * @internal
 */
export function createApiTestBed(overrides: SimulationOptions = {}): ApiTestBed {
  const clock = createManualClock();
  const options = resolveSimulationOptions({ clock, ...overrides });
  const now = (): number => clock.now();
  const state = new SimulationState({
    store: createMemoryBlobStore(),
    now,
    defaultVisibility: options.defaultVisibility,
  });
  const tokens = createTokenService({ state, now, ttlSeconds: options.tokenTtlSeconds });
  const operations: string[] = [];
  const context: SimulationContext = {
    options,
    state,
    clock,
    log: createRequestLog(),
    tokens,
    now,
    annotate: (_request, annotation) => {
      if (annotation.operation !== undefined) operations.push(annotation.operation);
    },
  };
  const handlers = createGithubApiHandlers(context);
  let counter = 0;
  return {
    clock,
    state,
    apiUrl: options.apiUrl,
    operations,
    token: (user, scopes) => state.createToken(user, scopes),
    push(name, tag, pusher) {
      counter += 1;
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, n: counter }));
      const repository = state.ensureRepository(name, pusher);
      const manifest = state.putManifest(
        repository,
        {
          digest: digestOf(bytes),
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          bytes,
          references: [],
        },
        tag,
      );
      return { repository, manifest };
    },
    async call(method, path, callOptions = {}) {
      const headers = new Headers(callOptions.headers);
      if (callOptions.token !== undefined) headers.set('authorization', `Bearer ${callOptions.token}`);
      if (callOptions.authorization !== undefined) headers.set('authorization', callOptions.authorization);
      const url = /^https?:/.test(path) ? path : `${options.apiUrl}${path}`;
      const response = await getResponse(handlers, new Request(url, { method, headers }));
      if (response === undefined) throw new Error(`no handler answered ${method} ${url}`);
      return response;
    },
  };
}
