// Debian's docker-registry (CNCF distribution 2.8) on loopback: a free port, storage in a fresh
// directory, the access log kept in a file so a run's requests can be counted afterwards.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function probe(url) {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

/** Every registry started and not yet stopped, so a failure or an interrupt can stop them all. */
const live = new Set();

/** Stops every registry still running (after a failure, or on SIGINT/SIGTERM). */
export async function stopAllRegistries() {
  await Promise.all([...live].map((registry) => registry.stop().catch(() => {})));
}

/**
 * Starts `docker-registry serve CONFIG.yml` with storage under `dir` (created; removed by
 * `stop()`). Returns `{ host, port, dir, accessLog(), stop() }`; `accessLog()` parses the requests
 * served so far (combined log format: method, path, status, response bytes).
 */
export async function startRegistry(dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const config = join(dir, 'config.yml');
  const logFile = join(dir, 'access.log');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const log = createWriteStream(logFile);
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.pipe(log);
  proc.stderr.pipe(log);
  const failed = new Promise((_, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`docker-registry exited with ${code} (see ${logFile})`)));
  });
  failed.catch(() => {});
  const host = `127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 200; attempt++) {
    const status = await Promise.race([probe(`http://${host}/v2/`), failed]);
    if (status === 200) {
      const registry = {
        host,
        port,
        dir,
        pid: proc.pid,
        accessLog: async () => parseAccessLog(await readFile(logFile, 'utf8')),
        async stop({ keep = false } = {}) {
          live.delete(registry);
          if (proc.exitCode === null && proc.signalCode === null) {
            const exited = new Promise((resolve) => proc.once('exit', resolve));
            proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(timer);
          }
          log.end();
          if (!keep) await rm(dir, { recursive: true, force: true });
        },
      };
      live.add(registry);
      return registry;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`docker-registry did not answer on ${host} within 10 s (see ${logFile})`);
}

const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-)/;

/** The requests of a combined-format access log: `{ method, path, status, bytes }`. */
export function parseAccessLog(text) {
  const entries = [];
  for (const line of text.split('\n')) {
    const match = ACCESS_LINE.exec(line);
    if (match === null) continue;
    entries.push({
      method: match[1],
      path: match[2],
      status: Number(match[3]),
      bytes: match[4] === '-' ? 0 : Number(match[4]),
    });
  }
  return entries;
}

/**
 * What a slice of access-log entries did to blobs: uploads finished (PUT …/blobs/uploads/…, 201),
 * chunk PATCHes, mounts answered 201, and blob bytes served by GET.
 */
export function blobTraffic(entries) {
  const traffic = {
    uploads: 0,
    patches: 0,
    mounts: 0,
    blobGets: 0,
    blobGetBytes: 0,
    requests: entries.length,
  };
  for (const entry of entries) {
    if (entry.path.includes('/blobs/uploads/')) {
      if (entry.method === 'PUT' && entry.status === 201) traffic.uploads += 1;
      else if (entry.method === 'PATCH') traffic.patches += 1;
      else if (entry.method === 'POST' && entry.status === 201 && entry.path.includes('mount='))
        traffic.mounts += 1;
    } else if (entry.path.includes('/blobs/sha256:') && entry.method === 'GET') {
      traffic.blobGets += 1;
      traffic.blobGetBytes += entry.bytes;
    }
  }
  return traffic;
}

/** CPU time (user + system, ms) a process has used so far, from /proc; undefined elsewhere. */
export async function processCpuMs(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 (1-based) of the whole line: 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}
