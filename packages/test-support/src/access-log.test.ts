import { describe, expect, it } from 'vitest';
import { parseAccessLog } from './access-log.js';

// Lines as docker-registry 2.8.2 writes them: its own log lines and the combined-format access log.
const LOG = [
  'time="2026-11-27T21:52:37.86Z" level=warning msg="No HTTP secret provided - generated random secret." version=2.8.2+ds1',
  '127.0.0.1 - - [27/Nov/2026:21:52:37 +0000] "GET /v2/ HTTP/1.1" 200 2 "" ""',
  'time="2026-11-27T21:52:38.03Z" level=error msg="response completed with error" err.code="manifest unknown" http.request.method=GET http.response.status=404',
  '127.0.0.1 - - [27/Nov/2026:21:52:38 +0000] "GET /v2/x/manifests/nope HTTP/1.1" 404 94 "" "node"',
  '127.0.0.1 - - [27/Nov/2026:21:52:39 +0000] "POST /v2/a/blobs/uploads/?mount=sha256:ab&from=b HTTP/1.1" 201 - "" "node"',
  '',
].join('\n');

describe('parseAccessLog', () => {
  it('reads method, path, status and bytes of each request and passes over the other lines', () => {
    expect(parseAccessLog(LOG)).toEqual([
      { method: 'GET', path: '/v2/', status: 200, bytes: 2 },
      { method: 'GET', path: '/v2/x/manifests/nope', status: 404, bytes: 94 },
      { method: 'POST', path: '/v2/a/blobs/uploads/?mount=sha256:ab&from=b', status: 201, bytes: 0 },
    ]);
  });

  it('is empty for an empty log', () => {
    expect(parseAccessLog('')).toEqual([]);
  });
});
