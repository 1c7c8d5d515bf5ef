import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1: the OS picks one, the listener is closed again and the port
 * returned. There is a small race until the caller binds it (see `attempts` of
 * `startDockerRegistry`).
 * @internal
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
