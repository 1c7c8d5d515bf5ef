// Debian's docker-registry for the benchmark, through the shared harness (@ghcr/test-support,
// built by `pnpm bench`): a free loopback port, storage under the given directory, the access log
// kept in a file so a run's requests can be counted afterwards.
import { createDockerRegistryGroup } from '@ghcr/test-support';

/** Every registry started and not yet stopped, so a failure or an interrupt can stop them all. */
const registries = createDockerRegistryGroup();

/**
 * Starts `docker-registry serve` with its directory at `dir` (replaced; removed by `stop()`).
 * Returns the harness's registry: `host`, `port`, `pid`, `accessLog()` (method, path, status,
 * response bytes of each request so far), `cpuTimeMs()`, `stop()`.
 */
export function startRegistry(dir) {
  return registries.start({ directory: dir, accessLog: true });
}

/** Stops every registry still running (after a failure, or on SIGINT/SIGTERM). */
export function stopAllRegistries() {
  return registries.stopAll();
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
