#!/usr/bin/env node
// What receiving one blob costs Node itself, below any client: one GET of the blob, its body bytes
// counted and dropped (no hashing, no file), three ways. `lib/transfers.mjs` (the memory part) runs
// it against the memory image's layer and reports each process's peak RSS and CPU beside ours.
//   node bench/lib/receive-floor.mjs socket  <host:port> <path> <size>   net.Socket, default reads
//   node bench/lib/receive-floor.mjs reused  <host:port> <path> <size>   net.Socket, onread into one buffer
//   node bench/lib/receive-floor.mjs undici  <host:port> <path> <size>   undici Agent.dispatch, onData
// Prints one JSON line: { mode, bytes } (body bytes received); exits 1 unless the status was 200
// and exactly <size> body bytes arrived.
//
// `socket` is every Node socket's default: each read allocates a new 64 KiB buffer, freed only by
// a garbage collection. `reused` reads into one 256 KiB buffer for the life of the socket (net's
// `onread`), so nothing is allocated per read: how the transport's own connections read blob GETs
// (`ownBlobConnections`). `undici` is the transport's HTTP client for every other request
// (DESIGN.md). Every mode runs under the `ghcr` executable's V8 settings (`./v8-flags.mjs`: among
// them undici's WebAssembly parser baseline-compiled, no optimising compiler, a young generation
// that stays small), so each row compares with ours.
import { createRequire } from 'node:module';
import net from 'node:net';
import { responseHead } from './raw-response.mjs';
import { applyCliV8Flags } from './v8-flags.mjs';

applyCliV8Flags();

const [mode, authority, path, sizeText] = process.argv.slice(2);
const size = Number(sizeText);
if (!['socket', 'reused', 'undici'].includes(mode) || !authority || !path || !(size >= 0)) {
  console.error('usage: receive-floor.mjs socket|reused|undici <host:port> <path> <size>');
  process.exit(2);
}
const colon = authority.lastIndexOf(':');
const host = authority.slice(0, colon);
const port = Number(authority.slice(colon + 1));

function finish(status, bytes) {
  console.log(JSON.stringify({ mode, status, bytes }));
  if (status !== 200 || bytes !== size) {
    console.error(`receive-floor: expected 200 and ${size} body bytes, got ${status} and ${bytes}`);
    process.exitCode = 1;
  }
}

/** The response of a `Connection: close` GET read from a raw socket: its body is only counted. */
function rawResponse() {
  const head = responseHead();
  let body = 0;
  return {
    take(chunk, length) {
      body += head.take(chunk.subarray(0, length))?.byteLength ?? 0;
    },
    done: () => finish(head.status, body),
  };
}

const request = `GET ${path} HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`;
if (mode === 'socket') {
  const response = rawResponse();
  const socket = net.connect({ host, port }, () => socket.write(request));
  socket.on('data', (chunk) => response.take(chunk, chunk.byteLength));
  socket.on('close', response.done);
} else if (mode === 'reused') {
  const response = rawResponse();
  const socket = net.connect(
    {
      host,
      port,
      onread: {
        buffer: Buffer.allocUnsafe(256 * 1024),
        callback: (length, buffer) => {
          response.take(buffer, length);
        },
      },
    },
    () => socket.write(request),
  );
  socket.on('close', response.done);
} else {
  // undici is a dependency of the client package (not hoisted to the root).
  const requireFromClient = createRequire(new URL('../../packages/client/package.json', import.meta.url));
  const { Agent } = requireFromClient('undici');
  const agent = new Agent();
  let status = 0;
  let bytes = 0;
  agent.dispatch(
    { origin: `http://${authority}`, path, method: 'GET', headers: {} },
    {
      onConnect() {},
      onHeaders(statusCode) {
        status = statusCode;
        return true;
      },
      onData(chunk) {
        bytes += chunk.byteLength;
        return true;
      },
      onComplete() {
        finish(status, bytes);
        agent.close();
      },
      onError(error) {
        console.error(`receive-floor: ${error.message}`);
        process.exitCode = 1;
        agent.close();
      },
    },
  );
}
