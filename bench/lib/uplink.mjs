// A narrow uplink in front of a loopback registry: a TCP proxy in a process of its own that passes
// what clients send at most `mibPerSecond` (one budget shared by every connection, as one machine's
// upload link is) and what the registry answers at full speed. A push to a registry across a
// network is bound by that link, which loopback never is; both tools push through the same proxy.
// `node uplink.mjs LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT MIB_PER_SECOND` prints `listening PORT`.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

function serve(listenPort, upstreamHost, upstreamPort, mibPerSecond) {
  const bytesPerMs = (mibPerSecond * 1024 * 1024) / 1000;
  // At most 20 ms of budget saved up, so a pause is not followed by a burst above the rate.
  const burst = bytesPerMs * 20;
  let budget = 0;
  let last = performance.now();
  const queue = [];
  // Whether a pump is due (a timer is set).
  let scheduled = false;
  const schedule = (ms) => {
    scheduled = true;
    setTimeout(pump, ms);
  };
  const pump = () => {
    scheduled = false;
    const now = performance.now();
    budget = Math.min(budget + (now - last) * bytesPerMs, burst);
    last = now;
    while (queue.length > 0 && budget >= 1) {
      const job = queue[0];
      const n = Math.min(job.chunk.length - job.at, Math.floor(budget));
      job.out.write(job.chunk.subarray(job.at, job.at + n));
      job.at += n;
      budget -= n;
      if (job.at === job.chunk.length) {
        queue.shift();
        job.done();
      }
    }
    if (queue.length > 0) schedule(1);
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, upstreamHost);
    upstream.pipe(client);
    client.on('data', (chunk) => {
      client.pause();
      queue.push({ chunk, at: 0, out: upstream, done: () => client.resume() });
      if (!scheduled) schedule(0);
    });
    client.on('end', () => upstream.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  server.listen(listenPort, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}

/**
 * Starts the proxy in front of `upstream` (`host:port`) at `mibPerSecond`; resolves with its
 * `host` (`127.0.0.1:PORT`) and `stop()`.
 */
export function startUplink(upstream, mibPerSecond) {
  const [upstreamHost, upstreamPort] = upstream.split(':');
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '0', upstreamHost, upstreamPort, String(mibPerSecond)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the uplink proxy exited (${code}) before listening`)));
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (line) => {
      const port = /listening (\d+)/.exec(line)?.[1];
      if (port === undefined) {
        reject(new Error(`the uplink proxy said "${line.trim()}"`));
        return;
      }
      child.removeAllListeners('exit');
      resolve({
        host: `127.0.0.1:${port}`,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) {
              done();
              return;
            }
            child.once('exit', () => done());
            child.kill();
          }),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [listenPort, upstreamHost, upstreamPort, mibPerSecond] = process.argv.slice(2);
  serve(Number(listenPort), upstreamHost, Number(upstreamPort), Number(mibPerSecond));
}
