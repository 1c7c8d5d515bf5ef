import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { type Dispatcher, request as undiciRequest } from 'undici';

/**
 * One request the TLS front received, as the client sent it. Header values are never kept: only
 * the authorization scheme and which of the watched secrets appeared in which header.
 * @internal
 */
export interface FrontRequest {
  /** 1, 2, 3… in arrival order. */
  readonly seq: number;
  /** The `Host` the client asked for (no port). */
  readonly host: string;
  /** The TLS server name (SNI) the client sent, or `''`. */
  readonly serverName: string;
  readonly method: string;
  /** The path, without the query (signed URLs carry one). */
  readonly path: string;
  /** The response status (0 until answered, or when the exchange failed). */
  status: number;
  /** The first word of the `Authorization` header (`Bearer`, `Basic`), or `''` when there was none. */
  readonly authorization: string;
  /** The response's `ratelimit-remaining` (Docker Hub's pull quota, e.g. `97;w=21600`), or `''`. */
  rateLimitRemaining: string;
  /** Each watched secret (by its label) found in a header, and where: `[{ secret, header }]`. */
  readonly secretsSeen: readonly { readonly secret: string; readonly header: string }[];
}

/**
 * An HTTPS server on port 443 standing in for several hosts: each request goes, by its `Host`, to
 * the undici `Dispatcher` that serves that origin (a simulation's in-process dispatcher).
 * @internal
 */
export interface TlsFront {
  /** Every request so far, oldest first (a copy). */
  requests(): FrontRequest[];
  close(): Promise<void>;
}

/** Options of {@link startTlsFront}. @internal */
export interface TlsFrontOptions {
  /** Host name (lower case, no port) → the dispatcher that answers `https://<host>`. */
  readonly routes: ReadonlyMap<string, Dispatcher>;
  /** The server certificate (PEM file) and its key, covering every routed host. */
  readonly certificatePath: string;
  readonly keyPath: string;
  /** Values to look for in every request header, by label; only the labels are recorded. If omitted, none. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** If omitted, `127.0.0.1`. */
  readonly host?: string;
  /** If omitted, 443. */
  readonly port?: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
  'host',
]);

function secretsIn(
  request: IncomingMessage,
  secrets: readonly [string, string][],
): { secret: string; header: string }[] {
  const seen: { secret: string; header: string }[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const header = (request.rawHeaders[i] ?? '').toLowerCase();
    const value = request.rawHeaders[i + 1] ?? '';
    for (const [secret, text] of secrets)
      if (text !== '' && value.includes(text)) seen.push({ secret, header });
  }
  return seen;
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  dispatcher: Dispatcher,
  host: string,
  entry: FrontRequest,
): Promise<void> {
  const method = (request.method ?? 'GET').toUpperCase();
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  // The client's address, as a proxy in front of a registry passes it (Docker Hub's stand-in keeps
  // its anonymous pull quota per address).
  headers['x-forwarded-for'] ??= request.socket.remoteAddress ?? '127.0.0.1';
  const hasBody =
    method !== 'GET' &&
    method !== 'HEAD' &&
    (request.headers['transfer-encoding'] !== undefined ||
      Number(request.headers['content-length'] ?? 0) > 0);
  const upstream = await undiciRequest(`https://${host}${request.url ?? '/'}`, {
    dispatcher,
    method: method as Dispatcher.HttpMethod,
    headers,
    body: hasBody ? request : null,
  });
  if (!hasBody) request.resume();
  entry.status = upstream.statusCode;
  const remaining = upstream.headers['ratelimit-remaining'];
  if (typeof remaining === 'string') entry.rateLimitRemaining = remaining;
  response.statusCode = upstream.statusCode;
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) response.setHeader(name, value);
  }
  if (method === 'HEAD') {
    upstream.body.resume();
    response.end();
    return;
  }
  await pipeline(upstream.body, response);
}

/**
 * Starts the front: HTTPS with one certificate for every routed host, HTTP/1.1, keep-alive. A
 * request for a host with no route gets 421 (Misdirected Request) naming the host.
 * @internal
 */
export async function startTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const [cert, key] = await Promise.all([readFile(options.certificatePath), readFile(options.keyPath)]);
  const secrets = Object.entries(options.secrets ?? {});
  const log: FrontRequest[] = [];
  const server: Server = createServer({ cert, key }, (request, response) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    const serverName = (request.socket as { servername?: unknown }).servername;
    const entry: FrontRequest = {
      seq: log.length + 1,
      host,
      serverName: typeof serverName === 'string' ? serverName : '',
      method: (request.method ?? 'GET').toUpperCase(),
      path: (request.url ?? '/').replace(/\?.*$/, ''),
      status: 0,
      authorization: (request.headers.authorization ?? '').split(' ')[0] ?? '',
      rateLimitRemaining: '',
      secretsSeen: secretsIn(request, secrets),
    };
    log.push(entry);
    const dispatcher = options.routes.get(host);
    if (dispatcher === undefined) {
      request.resume();
      entry.status = 421;
      response.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`no stand-in serves ${host} in this test\n`);
      return;
    }
    answer(request, response, dispatcher, host, entry).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      entry.status = 502;
      response.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(
        `the stand-in for ${host} failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    });
  });
  server.listen(options.port ?? 443, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    requests: () => log.map((entry) => ({ ...entry })),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
