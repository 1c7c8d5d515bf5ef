/**
 * A seeded fault-injecting HTTP proxy on loopback, for the fault matrix: a real TCP/HTTP server
 * between a client (the built CLI, skopeo) and a real registry (docker-registry). Each request is
 * forwarded as it came (the `Host` header kept, so the registry's `Location`s point back at the
 * proxy), and a seeded draw decides whether a fault hits it and which one.
 */

import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { definedProps } from '@ghcr/oci-types';

/**
 * The faults the proxy injects.
 * - `reset-response`: the registry's headers, part of its body, then the connection is dropped.
 * - `truncate`: the registry's headers (with its `Content-Length`), part of the body, then the
 *   connection is closed as if the body had ended.
 * - `corrupt`: one byte of the response body flipped (same length).
 * - `reset-request`: part of the request body is forwarded, then both connections are dropped
 *   (a reset mid-upload).
 * - `status-5xx`: 500, 502 or 503 (half of them with `Retry-After: 1`) without asking the registry.
 * - `status-429`: 429 with `Retry-After: 1` without asking the registry.
 * - `status-429-bare`: 429 without `Retry-After` (a client that waits the conventional 60 s for
 *   an unstated limit, as ours does, spends a minute on each).
 * - `slow-headers`: the request is held 200–700 ms before it is forwarded.
 * - `stray-401`: 401 with a Bearer challenge (`error="invalid_token"`) pointing at the proxy's
 *   own token endpoint, as a registry answers a token that expired mid-push: the token the
 *   request carried is refused from then on (a fresh one from the endpoint works; a token serves
 *   8 requests before it can expire).
 * - `html-200`: 200 with an HTML page instead of what the registry would send (a captive portal).
 * - `expired-redirect`: a blob GET is redirected to a signed-looking URL on the proxy, which
 *   answers 403 the first time (an expired blob URL) and serves the blob when the registry is
 *   asked again.
 * @internal
 */
export type FaultKind =
  | 'reset-response'
  | 'truncate'
  | 'corrupt'
  | 'reset-request'
  | 'status-5xx'
  | 'status-429'
  | 'status-429-bare'
  | 'slow-headers'
  | 'stray-401'
  | 'html-200'
  | 'expired-redirect';

/** What one request met. @internal */
export interface FaultRecord {
  readonly method: string;
  readonly path: string;
  readonly fault?: FaultKind;
}

/**
 * Options of {@link startFaultProxy}.
 * @internal
 */
export interface FaultProxyOptions {
  /** The registry's origin, `http://127.0.0.1:<port>`. */
  readonly target: string;
  /** Seed of the generator that decides which requests are hit and how. */
  readonly seed: number;
  /** Share of requests that get a fault, 0–1. */
  readonly rate: number;
  /** Faults to choose from (each applies only where it makes sense). If omitted, every kind but `html-200`. */
  readonly kinds?: readonly FaultKind[];
  /**
   * Faults forced on matching requests regardless of `rate` (e.g. corrupt every blob GET). If
   * omitted, none.
   */
  readonly always?: {
    readonly kind: FaultKind;
    readonly match: (method: string, path: string) => boolean;
    /** At most this many times. If omitted, every matching request. */
    readonly times?: number;
  };
  /**
   * Called before a request the given predicate picks is forwarded (once): e.g. restart the
   * registry and `setTarget` the new one. The request itself is reset; requests arriving while
   * the hook runs wait for it. If omitted, none.
   */
  readonly interrupt?: {
    readonly match: (method: string, path: string) => boolean;
    readonly run: () => Promise<void>;
  };
}

/** A running proxy. @internal */
export interface FaultProxy {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every request seen, with the fault it met. */
  readonly records: readonly FaultRecord[];
  /** Faults injected so far. */
  faults(): number;
  /** Points the proxy at another registry (after a restart on a new port). */
  setTarget(target: string): void;
  close(): Promise<void>;
}

/** mulberry32: small, seedable, good enough to pick faults. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The mix a proxy draws from when not told otherwise: every kind but `html-200` (which no client
 * can get past: it is a scenario of its own).
 * @internal
 */
export const DEFAULT_FAULT_KINDS: readonly FaultKind[] = [
  'reset-response',
  'truncate',
  'corrupt',
  'reset-request',
  'status-5xx',
  'status-429',
  'status-429-bare',
  'slow-headers',
  'stray-401',
  'expired-redirect',
];

/** Requests a new token serves before a stray 401 may expire it. */
const TOKEN_FRESH_USES = 8;

const isBlobGet = (method: string, path: string): boolean =>
  method === 'GET' && /\/blobs\/sha256:/.test(path);
const hasBody = (method: string): boolean => method === 'PUT' || method === 'PATCH' || method === 'POST';
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a fault of `kind` can hit this request at all. */
function applies(kind: FaultKind, method: string, path: string, headers: IncomingHttpHeaders): boolean {
  switch (kind) {
    case 'reset-response':
    case 'truncate':
    case 'corrupt':
      return method === 'GET';
    case 'reset-request':
      return hasBody(method) && Number(headers['content-length'] ?? '0') !== 0;
    case 'expired-redirect':
      return isBlobGet(method, path);
    case 'html-200':
      return method === 'GET' && /\/manifests\//.test(path);
    default:
      return true;
  }
}

/**
 * Starts a fault proxy on a free loopback port.
 * @internal
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const random = seeded(options.seed);
  const kinds = options.kinds ?? DEFAULT_FAULT_KINDS;
  const records: FaultRecord[] = [];
  let injected = 0;
  let alwaysFired = 0;
  let target = new URL(options.target);
  let interrupting: Promise<void> | undefined;
  let interrupted = false;
  const expired = new Set<string>();
  const expiredPaths = new Set<string>();
  const expiredTokens = new Set<string>();
  const tokenUses = new Map<string, number>();
  let tokens = 0;
  let origin = '';
  /** A second listener plays the blob host a registry redirects to (another origin, no credentials). */
  let blobOrigin = '';

  const pick = (method: string, path: string, headers: IncomingHttpHeaders): FaultKind | undefined => {
    if (options.always?.match(method, path) === true && alwaysFired < (options.always.times ?? Infinity)) {
      alwaysFired += 1;
      return options.always.kind;
    }
    // Draw for every request, so the sequence of decisions depends on the seed and the order only.
    const hit = random() < options.rate;
    const which = random();
    if (!hit) return undefined;
    const possible = kinds.filter((kind) => applies(kind, method, path, headers));
    if (possible.length === 0) return undefined;
    return possible[Math.floor(which * possible.length)];
  };

  const reply = (response: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    response.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
    response.end(body);
  };

  const forward = (
    incoming: IncomingMessage,
    response: ServerResponse,
    fault: FaultKind | undefined,
    pathOverride?: string,
  ): void => {
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: pathOverride ?? incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        const headers = { ...answer.headers };
        const length = Number(headers['content-length'] ?? Number.NaN);
        const cutAt =
          Number.isSafeInteger(length) && length > 1 ? Math.floor(length * (0.2 + random() * 0.6)) : 0;
        const flipAt = Number.isSafeInteger(length) && length > 0 ? Math.floor(random() * length) : -1;
        response.writeHead(answer.statusCode ?? 502, headers);
        const bodyFault = answer.statusCode !== undefined && answer.statusCode < 300 ? fault : undefined;
        if ((bodyFault === 'reset-response' || bodyFault === 'truncate') && cutAt > 0) {
          let sent = 0;
          answer.on('data', (chunk: Buffer) => {
            if (sent >= cutAt) return;
            const piece = chunk.subarray(0, cutAt - sent);
            sent += piece.byteLength;
            response.write(piece);
            if (sent >= cutAt) {
              answer.destroy();
              const socket = response.socket as Socket | null;
              if (bodyFault === 'reset-response') socket?.resetAndDestroy();
              else socket?.end();
            }
          });
          return;
        }
        if (bodyFault === 'corrupt' && flipAt >= 0) {
          let seen = 0;
          answer.on('data', (chunk: Buffer) => {
            const copy = Buffer.from(chunk);
            if (flipAt >= seen && flipAt < seen + copy.byteLength) {
              copy[flipAt - seen] = (copy[flipAt - seen] ?? 0) ^ 0xff;
            }
            seen += copy.byteLength;
            response.write(copy);
          });
          answer.on('end', () => response.end());
          return;
        }
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      (response.socket as Socket | null)?.resetAndDestroy();
    });
    if (fault === 'reset-request') {
      const total = Number(incoming.headers['content-length'] ?? '0');
      const cutAt = Math.max(1, Math.floor(total * (0.2 + random() * 0.6)));
      let sent = 0;
      incoming.on('data', (chunk: Buffer) => {
        if (sent >= cutAt) return;
        const piece = chunk.subarray(0, cutAt - sent);
        sent += piece.byteLength;
        upstream.write(piece);
        if (sent >= cutAt) {
          upstream.destroy();
          (incoming.socket as Socket).resetAndDestroy();
        }
      });
      return;
    }
    incoming.pipe(upstream);
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = incoming.method ?? 'GET';
    const path = incoming.url ?? '/';
    if (path.startsWith('/__token')) {
      tokens += 1;
      records.push({ method, path: '/__token' });
      reply(
        response,
        200,
        { 'content-type': 'application/json' },
        JSON.stringify({ token: `t${tokens}`, expires_in: 300 }),
      );
      return;
    }
    const signed = /^\/__blob\/([^?]+)\?sig=(\w+)/.exec(path);
    if (signed !== null) {
      const [, blobPath = '', sig = ''] = signed;
      records.push({ method, path: '/__blob' });
      if (expired.has(sig)) {
        // The URL handed out had already expired: the client must ask the registry again.
        reply(
          response,
          403,
          { 'content-type': 'application/xml' },
          '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
        );
        return;
      }
      forward(incoming, response, undefined, decodeURIComponent(blobPath));
      return;
    }
    if (interrupting !== undefined) await interrupting;
    if (options.interrupt !== undefined && !interrupted && options.interrupt.match(method, path)) {
      interrupted = true;
      injected += 1;
      records.push({ method, path, fault: 'reset-request' });
      (incoming.socket as Socket).resetAndDestroy();
      interrupting = options.interrupt.run();
      await interrupting;
      interrupting = undefined;
      return;
    }
    const bearer = /^Bearer (t\d+)$/.exec(String(incoming.headers.authorization ?? ''))?.[1];
    if (bearer !== undefined && expiredTokens.has(bearer)) {
      records.push({ method, path });
      reply(
        response,
        401,
        {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="${origin}/__token",service="faults",error="invalid_token"`,
        },
        JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'token expired' }] }),
      );
      incoming.resume();
      return;
    }
    // A token that was just issued does not expire: only after TOKEN_FRESH_USES requests may a
    // fault expire it (a real token lives minutes; one expiring twice within a retry would be
    // a fault of the model, not of the network).
    const uses = bearer === undefined ? 0 : (tokenUses.get(bearer) ?? 0) + 1;
    if (bearer !== undefined) tokenUses.set(bearer, uses);
    const drawn = pick(method, path, incoming.headers);
    const fault =
      drawn === 'stray-401' && bearer !== undefined && uses <= TOKEN_FRESH_USES ? undefined : drawn;
    records.push({ method, path, ...definedProps({ fault }) });
    if (fault === undefined) {
      forward(incoming, response, undefined);
      return;
    }
    injected += 1;
    const drainThen = (then: () => void): void => {
      incoming.resume();
      if (incoming.readableEnded) then();
      else incoming.once('end', then);
    };
    switch (fault) {
      case 'status-5xx': {
        const status = [500, 502, 503][Math.floor(random() * 3)] ?? 503;
        const retryAfter = random() < 0.5;
        drainThen(() =>
          reply(
            response,
            status,
            { 'content-type': 'text/plain', ...(retryAfter ? { 'retry-after': '1' } : {}) },
            'injected fault',
          ),
        );
        return;
      }
      case 'status-429':
      case 'status-429-bare': {
        const retryAfter = fault === 'status-429';
        drainThen(() =>
          reply(
            response,
            429,
            { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': '1' } : {}) },
            JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'injected rate limit' }] }),
          ),
        );
        return;
      }
      case 'stray-401':
        // The token the request carries expires now (every request still bearing it is refused
        // from here on), or a request without one is challenged.
        if (bearer !== undefined) expiredTokens.add(bearer);
        drainThen(() =>
          reply(
            response,
            401,
            {
              'content-type': 'application/json',
              'www-authenticate': `Bearer realm="${origin}/__token",service="faults",error="invalid_token"`,
            },
            JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'token expired' }] }),
          ),
        );
        return;
      case 'html-200':
        drainThen(() =>
          reply(
            response,
            200,
            { 'content-type': 'text/html' },
            '<html><body>Please sign in to the network</body></html>',
          ),
        );
        return;
      case 'expired-redirect': {
        // The first URL handed out for a blob has expired by the time it is used; a URL the
        // registry hands out again (asked afresh) is good.
        const sig = `s${records.length}`;
        if (!expiredPaths.has(path)) {
          expiredPaths.add(path);
          expired.add(sig);
        }
        reply(response, 307, { location: `${blobOrigin}/__blob/${encodeURIComponent(path)}?sig=${sig}` }, '');
        return;
      }
      case 'slow-headers':
        await delay(200 + Math.floor(random() * 500));
        forward(incoming, response, undefined);
        return;
      default:
        forward(incoming, response, fault);
    }
  };

  const listen = async () => {
    const server = createServer((incoming, response) => {
      handle(incoming, response).catch(() => {
        (response.socket as Socket | null)?.resetAndDestroy();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port };
  };
  const { server, port } = await listen();
  const blobHost = await listen();
  origin = `http://127.0.0.1:${port}`;
  blobOrigin = `http://127.0.0.1:${blobHost.port}`;
  return {
    host: `127.0.0.1:${port}`,
    url: origin,
    records,
    faults: () => injected,
    setTarget(next) {
      target = new URL(next);
    },
    async close() {
      for (const listener of [server, blobHost.server]) {
        listener.closeAllConnections();
        listener.close();
        await once(listener, 'close');
      }
    },
  };
}
