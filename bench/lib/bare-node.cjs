// The least a Node program can do for the commands that move no blobs: the same HTTP requests on
// raw sockets (`node:net`, HTTP/1.1 keep-alive, plain HTTP, anonymous), nothing else loaded, no
// dependency, no retry, no validation beyond the status codes. CommonJS, since Node loads a
// CommonJS file faster than an ES module. Timed from spawn to exit like the tools: a goal that
// allows less time than this takes is out of reach for any Node program on this machine, whatever
// its code (docs/benchmarks.md, "Issue 18, fifteenth round").
//
//   node bare-node.cjs tags HOST REPO                   prints the tags, one a line
//   node bare-node.cjs inspect HOST REPO TAG            prints the manifest's digest (the registry's header)
//   node bare-node.cjs copy-same HOST REPO TAG TO_REPO  GET the manifest, mount its blobs into TO_REPO
//                                                       4 at a time, PUT the manifest under TAG
'use strict';
const net = require('node:net');

const [command, host, repo, tag, toRepo] = process.argv.slice(2);
const [hostname, port] = host.split(':');
const MANIFEST_ACCEPT =
  'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, ' +
  'application/vnd.docker.distribution.manifest.v2+json';

/** One keep-alive connection: `request()` sends and resolves with `{ status, headers, body }`. */
function connection() {
  const socket = net.connect(Number(port), hostname);
  socket.setNoDelay(true);
  let buffered = Buffer.alloc(0);
  let waiting;
  const settle = () => {
    if (waiting === undefined) return;
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = buffered.subarray(0, end).toString('latin1').split('\r\n');
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (buffered.length < end + 4 + length) return;
    const body = buffered.subarray(end + 4, end + 4 + length);
    buffered = buffered.subarray(end + 4 + length);
    const { resolve } = waiting;
    waiting = undefined;
    resolve({ status: Number(lines[0].split(' ')[1]), headers, body });
  };
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    settle();
  });
  socket.on('error', (error) => waiting?.reject(error));
  return {
    request(method, path, headers = {}, body) {
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`];
        for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
        if (body !== undefined || method !== 'GET') lines.push(`Content-Length: ${body?.length ?? 0}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (body !== undefined) socket.write(body);
      });
    },
    close: () => socket.end(),
  };
}

function expect(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: HTTP ${response.status}, expected ${status}: ${response.body.toString()}`);
  }
  return response;
}

async function main() {
  const first = connection();
  if (command === 'tags') {
    const { body } = expect(await first.request('GET', `/v2/${repo}/tags/list`), 200, 'tag list');
    process.stdout.write(`${JSON.parse(body.toString()).tags.join('\n')}\n`);
  } else if (command === 'inspect') {
    const manifest = expect(
      await first.request('GET', `/v2/${repo}/manifests/${tag}`, { Accept: MANIFEST_ACCEPT }),
      200,
      'manifest',
    );
    const { config } = JSON.parse(manifest.body.toString());
    if (config === undefined) throw new Error(`${repo}:${tag} is not an image manifest (an index?)`);
    expect(await first.request('GET', `/v2/${repo}/blobs/${config.digest}`), 200, 'config');
    process.stdout.write(`${manifest.headers['docker-content-digest']}\n`);
  } else if (command === 'copy-same') {
    const manifest = expect(
      await first.request('GET', `/v2/${repo}/manifests/${tag}`, { Accept: MANIFEST_ACCEPT }),
      200,
      'manifest',
    );
    const parsed = JSON.parse(manifest.body.toString());
    if (parsed.config === undefined) throw new Error(`${repo}:${tag} is not an image manifest (an index?)`);
    const blobs = [parsed.config, ...parsed.layers].map((descriptor) => descriptor.digest);
    const connections = [first, connection(), connection(), connection()];
    await Promise.all(
      connections.map(async (each, index) => {
        for (let next = index; next < blobs.length; next += connections.length) {
          const path = `/v2/${toRepo}/blobs/uploads/?mount=${blobs[next]}&from=${repo}`;
          expect(await each.request('POST', path), 201, `mount ${blobs[next]}`);
        }
      }),
    );
    expect(
      await first.request(
        'PUT',
        `/v2/${toRepo}/manifests/${tag}`,
        { 'Content-Type': manifest.headers['content-type'] },
        manifest.body,
      ),
      201,
      'manifest PUT',
    );
    for (const each of connections.slice(1)) each.close();
  } else {
    throw new Error(`bare-node.cjs: unknown command ${command}`);
  }
  first.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  // The keep-alive sockets would hold the process open.
  process.exit(1);
});
