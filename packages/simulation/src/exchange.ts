/**
 * One request/response exchange with a simulation: the request goes through the fault injector,
 * msw's handlers and the request log, and the answer comes back with faults applied. Both ways in
 * share it: the in-process undici dispatcher (`dispatch/`) and the loopback HTTP server (`serve/`).
 */
import { randomUUID } from 'node:crypto';
import { type Clock, definedProps, redactUrl, SimulationMismatchError } from '@ghcr/oci-types';
import { getResponse, type RequestHandler } from 'msw';
import type { AnnotationRegistry } from './context.js';
import type { FaultAction, FaultInjector } from './faults/fault-injector.js';
import { redactHeadersForLog, SIMULATION_REQUEST_ID_HEADER, type WritableRequestLog } from './log.js';

/**
 * Creates a Request whose `clone()` does not tee the body. msw clones every request it matches (to keep a
 * copy for its own logging); a tee of a streamed upload would buffer the whole body in the unread
 * branch. The clone here has headers and URL only.
 * @internal
 */
export function createSimulationRequest(url: URL, init: RequestInit): Request {
  const request = new Request(url, init);
  Object.defineProperty(request, 'clone', {
    value: (): Request =>
      new Request(request.url, { method: request.method, headers: request.headers, signal: request.signal }),
  });
  return request;
}

/**
 * Raised when a fault drops the connection. The dispatcher turns it into undici's `SocketError`
 * (`UND_ERR_SOCKET`); the server destroys the socket.
 * @internal
 */
export class ConnectionResetSignal extends Error {
  readonly code = 'ECONNRESET';
  constructor(message = 'connection reset by the simulation (fault)') {
    super(message);
    this.name = 'ConnectionResetSignal';
  }
}

/**
 * What the in-process dispatcher and the loopback server need from a simulation.
 * @internal
 */
export interface ExchangeEnvironment {
  readonly handlers: readonly RequestHandler[];
  readonly log: WritableRequestLog;
  readonly faults: FaultInjector;
  readonly clock: Clock;
  readonly annotations: AnnotationRegistry;
  readonly classify: (method: string, url: URL) => string | undefined;
}

/**
 * A request as the dispatcher or the server hands it over (URL on the configured origins).
 * @internal
 */
export interface ExchangeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly signal: AbortSignal;
}

/**
 * The answer, with faults applied. Iterating `body` may throw {@link ConnectionResetSignal}.
 * @internal
 */
export interface ExchangeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: AsyncIterable<Uint8Array> | null;
}

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NAME_UNKNOWN',
  405: 'UNSUPPORTED',
  429: 'TOOMANYREQUESTS',
};

function faultResponse(
  action: Extract<FaultAction, { type: 'status' }>,
  operation: string | undefined,
): Response {
  const api = operation?.startsWith('api.') === true;
  const body =
    action.body ??
    (api
      ? JSON.stringify({
          message: `simulated fault: HTTP ${action.status}`,
          documentation_url: 'https://docs.github.com/rest',
        })
      : JSON.stringify({
          errors: [
            {
              code: STATUS_CODES[action.status] ?? 'UNKNOWN',
              message: `simulated fault: HTTP ${action.status}`,
            },
          ],
        }));
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...(action.retryAfter === undefined ? {} : { 'retry-after': String(action.retryAfter) }),
    ...action.headers,
  };
  return new Response(body, { status: action.status, headers });
}

/** Wraps the request body: counts bytes, and errors it after `resetAfter` bytes. */
function meterRequestBody(
  body: ReadableStream<Uint8Array> | null,
  onBytes: (count: number) => void,
  resetAfter: number | undefined,
  onReset: () => void,
): ReadableStream<Uint8Array> | null {
  if (body === null) return null;
  const reader = body.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (resetAfter !== undefined && seen >= resetAfter) {
          onReset();
          await reader.cancel().catch(() => {});
          controller.error(
            new ConnectionResetSignal('connection reset mid-upload by the simulation (fault)'),
          );
          return;
        }
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (error) {
          controller.error(error);
          return;
        }
        if (result.done) {
          controller.close();
          return;
        }
        let chunk = result.value;
        if (resetAfter !== undefined && seen + chunk.byteLength > resetAfter)
          chunk = chunk.subarray(0, resetAfter - seen);
        seen += chunk.byteLength;
        onBytes(chunk.byteLength);
        if (chunk.byteLength > 0) controller.enqueue(chunk);
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

async function* responseChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Applies body faults (truncate, corrupt, reset after N) and counts delivered bytes. */
async function* faultedBody(
  source: AsyncIterable<Uint8Array>,
  actions: readonly FaultAction[],
  onBytes: (count: number) => void,
): AsyncGenerator<Uint8Array> {
  let truncateAt = Number.POSITIVE_INFINITY;
  let resetAt = Number.POSITIVE_INFINITY;
  const corruptions: { start: number; end: number }[] = [];
  for (const action of actions) {
    if (action.type === 'truncate') truncateAt = Math.min(truncateAt, action.afterBytes);
    if (action.type === 'reset' && (action.phase ?? 'response') === 'response')
      resetAt = Math.min(resetAt, action.afterBytes ?? 0);
    if (action.type === 'corrupt') {
      const start = action.offset ?? 0;
      corruptions.push({ start, end: start + (action.length ?? 1) });
    }
  }
  const stopAt = Math.min(truncateAt, resetAt);
  let offset = 0;
  if (stopAt === 0) {
    if (resetAt === 0) throw new ConnectionResetSignal();
    return;
  }
  for await (const original of source) {
    let chunk = original;
    const end = offset + chunk.byteLength;
    if (corruptions.some((range) => range.start < end && range.end > offset)) {
      chunk = new Uint8Array(chunk);
      for (const range of corruptions) {
        for (let i = Math.max(range.start, offset); i < Math.min(range.end, end); i++) {
          chunk[i - offset] = (chunk[i - offset] ?? 0) ^ 0xff;
        }
      }
    }
    if (end >= stopAt) {
      const head = chunk.subarray(0, stopAt - offset);
      if (head.byteLength > 0) {
        onBytes(head.byteLength);
        yield head;
      }
      if (resetAt <= truncateAt) throw new ConnectionResetSignal();
      return;
    }
    offset = end;
    onBytes(chunk.byteLength);
    yield chunk;
  }
}

/**
 * Serves one request through the handlers, with faults and logging: the one path shared by the
 * in-process dispatcher and the loopback server.
 * @throws SimulationMismatchError when no handler matches (naming METHOD URL);
 * ConnectionResetSignal for a reset before the response.
 * @internal
 */
export async function exchange(
  env: ExchangeEnvironment,
  request: ExchangeRequest,
): Promise<ExchangeResponse> {
  const url = new URL(request.url);
  const method = request.method.toUpperCase();
  const operation = env.classify(method, url);
  const entry = env.log.append({
    time: env.clock.now(),
    method,
    url: redactUrl(url.toString()),
    host: url.host,
    path: url.pathname,
    ...definedProps({ operation }),
    status: 0,
    requestHeaders: redactHeadersForLog(request.headers),
    hadAuthorization: request.headers.has('authorization'),
    requestBytes: 0,
    responseBytes: 0,
    faults: [],
  });
  const id = randomUUID();
  const untrack = env.annotations.track(id, (annotation) => {
    if (annotation.operation !== undefined) entry.operation = annotation.operation;
  });
  try {
    const fired = env.faults.evaluate({ method, url, operation });
    for (const { id: faultId } of fired) entry.faults.push(faultId);
    const actions = fired.map((fault) => fault.action);
    for (const action of actions) {
      if (action.type === 'delay' && action.ms > 0) await env.clock.sleep(action.ms, request.signal);
    }
    const status = actions.find(
      (action): action is Extract<FaultAction, { type: 'status' }> => action.type === 'status',
    );
    const requestReset = actions.find(
      (action): action is Extract<FaultAction, { type: 'reset' }> =>
        action.type === 'reset' && action.phase === 'request',
    );
    const responseReset = actions.find(
      (action) =>
        action.type === 'reset' &&
        (action.phase ?? 'response') === 'response' &&
        (action.afterBytes ?? 0) === 0,
    );
    if (responseReset !== undefined && status === undefined) {
      await request.body?.cancel().catch(() => {});
      entry.error = 'connection reset (fault)';
      throw new ConnectionResetSignal();
    }
    let response: Response | undefined;
    let wasReset = false;
    if (status !== undefined) {
      await request.body?.cancel().catch(() => {});
      response = faultResponse(status, entry.operation);
    } else {
      const headers = new Headers(request.headers);
      headers.set(SIMULATION_REQUEST_ID_HEADER, id);
      const body = meterRequestBody(
        request.body,
        (count) => {
          entry.requestBytes += count;
        },
        requestReset?.afterBytes ?? (requestReset === undefined ? undefined : 0),
        () => {
          wasReset = true;
        },
      );
      const simulated = createSimulationRequest(url, {
        method,
        headers,
        signal: request.signal,
        ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body, duplex: 'half' }),
      } as RequestInit);
      response = await getResponse([...env.handlers], simulated);
      if (wasReset) {
        await response?.body?.cancel().catch(() => {});
        entry.error = 'connection reset mid-request (fault)';
        throw new ConnectionResetSignal('connection reset mid-upload by the simulation (fault)');
      }
      if (response === undefined) {
        await body?.cancel().catch(() => {});
        entry.error = 'no handler';
        throw new SimulationMismatchError(
          `the simulation has no handler for ${method} ${redactUrl(url.toString())}; check the URL (registry ${url.origin}?) or add a handler`,
        );
      }
    }
    entry.status = response.status;
    const headers = new Headers(response.headers);
    const bodyActions = actions.filter(
      (action) => action.type === 'truncate' || action.type === 'corrupt' || action.type === 'reset',
    );
    if (bodyActions.some((action) => action.type === 'truncate')) headers.delete('content-length');
    let body: AsyncIterable<Uint8Array> | null = null;
    if (method === 'HEAD' || response.body === null) {
      await response.body?.cancel().catch(() => {});
      if (bodyActions.some((action) => action.type === 'reset')) {
        entry.error = 'connection reset (fault)';
        throw new ConnectionResetSignal();
      }
    } else {
      body = faultedBody(responseChunks(response.body), bodyActions, (count) => {
        entry.responseBytes += count;
      });
    }
    return { status: response.status, statusText: response.statusText, headers, body };
  } finally {
    untrack();
  }
}
