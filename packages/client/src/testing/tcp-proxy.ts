/**
 * Test harness: a loopback TCP proxy that cuts the connection once, to force a connection drop in
 * the middle of a transfer. Not part of the published API.
 */
import { connect, createServer, type Socket } from 'node:net';

/** When to cut (once; afterwards everything passes). @internal */
export type CutRule =
  /** After this many bytes from client to server in total: forward exactly that many, then drop both sides. */
  | { readonly kind: 'after-bytes'; readonly bytes: number }
  /** When the n-th request (1-based) whose first line matches arrives: drop it before forwarding a byte. */
  | { readonly kind: 'on-request'; readonly requestLine: RegExp; readonly occurrence: number }
  /** After this many bytes from server to client in total (a download broken off). */
  | { readonly kind: 'after-response-bytes'; readonly bytes: number };

/** A running proxy. @internal */
export interface TcpProxy {
  readonly port: number;
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  /** Times a connection was cut. */
  readonly cuts: number;
  /** First lines of the requests seen (best effort: a write starting with an HTTP method). */
  readonly requestLines: readonly string[];
  close(): Promise<void>;
}

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+ HTTP\/1\.[01]\r\n/;

/** Starts a proxy to `targetPort` on 127.0.0.1. @internal */
export async function startTcpProxy(targetPort: number, rule: CutRule): Promise<TcpProxy> {
  let upBytes = 0;
  let downBytes = 0;
  let cuts = 0;
  let matches = 0;
  const requestLines: string[] = [];
  const sockets = new Set<Socket>();
  const cut = (client: Socket, upstream: Socket): void => {
    cuts += 1;
    client.destroy();
    upstream.destroy();
  };
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      const line = REQUEST_LINE.exec(chunk.subarray(0, 512).toString('latin1'));
      if (line !== null) {
        requestLines.push(line[0].trim());
        if (rule.kind === 'on-request' && cuts === 0 && rule.requestLine.test(line[0])) {
          matches += 1;
          if (matches === rule.occurrence) {
            cut(client, upstream);
            return;
          }
        }
      }
      if (rule.kind === 'after-bytes' && cuts === 0 && upBytes + chunk.byteLength >= rule.bytes) {
        const keep = rule.bytes - upBytes;
        upBytes = rule.bytes;
        upstream.write(chunk.subarray(0, keep), () => cut(client, upstream));
        return;
      }
      upBytes += chunk.byteLength;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (rule.kind === 'after-response-bytes' && cuts === 0 && downBytes + chunk.byteLength >= rule.bytes) {
        const keep = rule.bytes - downBytes;
        downBytes = rule.bytes;
        client.write(chunk.subarray(0, keep), () => cut(client, upstream));
        return;
      }
      downBytes += chunk.byteLength;
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    host: `127.0.0.1:${port}`,
    get cuts() {
      return cuts;
    },
    requestLines,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
