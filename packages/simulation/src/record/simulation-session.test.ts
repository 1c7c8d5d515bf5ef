import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definedProps, digestOf, EMPTY_JSON_BYTES, EMPTY_JSON_DIGEST, redactUrl } from '@ghcr/oci-types';
import { Agent, type Dispatcher, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulationServer } from '../serve/server.js';
import { readCassette } from './cassette.js';
import { createRecordingDispatcher } from './recording-dispatcher.js';
import { createReplayDispatcher } from './replay-dispatcher.js';

const LAYER = randomBytes(1536 * 1024); // 1.5 MiB, stored by digest

interface Outcome {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function send(
  dispatcher: Dispatcher,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<Outcome> {
  const response = await request(url, {
    dispatcher,
    method: (options.method ?? 'GET') as 'GET',
    ...definedProps({ headers: options.headers, body: options.body }),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: Buffer.from(await response.body.arrayBuffer()),
  };
}

/** A push and pull against the simulation's loopback server, with every kind of credential. */
async function session(dispatcher: Dispatcher, url: string, apiUrl: string, pat: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const basic = `Basic ${Buffer.from(`someone:${pat}`).toString('base64')}`;
  const tokenResponse = await send(
    dispatcher,
    `${url}/token?service=ghcr.io&scope=repository:octo/app:pull,push`,
    {
      headers: { authorization: basic },
    },
  );
  outcomes.push(tokenResponse);
  const { token } = JSON.parse(tokenResponse.body.toString()) as { token: string };
  const bearer = { authorization: `Bearer ${token}` };
  const layerDigest = digestOf(LAYER);
  for (const [bytes, digest] of [
    [LAYER, layerDigest],
    [EMPTY_JSON_BYTES, EMPTY_JSON_DIGEST],
  ] as const) {
    const started = await send(dispatcher, `${url}/v2/octo/app/blobs/uploads/`, {
      method: 'POST',
      headers: bearer,
    });
    outcomes.push(started);
    const location = new URL(String(started.headers.location), url);
    location.searchParams.set('digest', digest);
    outcomes.push(
      await send(dispatcher, location.toString(), {
        method: 'PUT',
        headers: { ...bearer, 'content-type': 'application/octet-stream' },
        body: bytes,
      }),
    );
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: LAYER.length },
    ],
  });
  outcomes.push(
    await send(dispatcher, `${url}/v2/octo/app/manifests/v1`, {
      method: 'PUT',
      headers: { ...bearer, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    }),
  );
  // Pull with Bearer base64(PAT), no token exchange.
  const patBearer = { authorization: `Bearer ${Buffer.from(pat).toString('base64')}` };
  outcomes.push(
    await send(dispatcher, `${url}/v2/octo/app/manifests/v1`, {
      headers: { ...patBearer, accept: 'application/vnd.oci.image.manifest.v1+json' },
    }),
  );
  const redirect = await send(dispatcher, `${url}/v2/octo/app/blobs/${layerDigest}`, { headers: patBearer });
  outcomes.push(redirect);
  outcomes.push(await send(dispatcher, new URL(String(redirect.headers.location), url).toString()));
  outcomes.push(
    await send(dispatcher, `${apiUrl}/orgs/octo/packages/container/app/versions`, {
      headers: { authorization: `Bearer ${pat}`, 'x-github-api-version': '2022-11-28' },
    }),
  );
  return outcomes;
}

function comparable(outcome: Outcome): unknown {
  const {
    date: _date,
    connection: _connection,
    'keep-alive': _keepAlive,
    'x-github-request-id': _id,
    ...headers
  } = outcome.headers;
  // The cassette keeps signed URLs redacted (sig=REDACTED); compare them in that form.
  if (typeof headers.location === 'string') headers.location = redactUrl(headers.location);
  return JSON.parse(JSON.stringify({ status: outcome.status, headers, body: digestOf(outcome.body) }));
}

async function listFiles(directory: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else out.push(path);
  }
  return out;
}

describe('record a simulation session, replay it with the server stopped', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-cassette-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('replays the same statuses, headers and bodies, and no secret is left in any file', async () => {
    const server = await startSimulationServer({});
    const simulation = server.simulation;
    simulation.createOrganization('octo', { admins: ['alice'] });
    const pat = simulation.createToken({
      user: 'alice',
      scopes: ['read:packages', 'write:packages', 'delete:packages'],
    });
    const cassette = join(directory, 'push-pull.json');
    const recorder = createRecordingDispatcher({ dispatcher: new Agent(), cassette });
    let recorded: Outcome[];
    try {
      recorded = await session(recorder, server.url, server.apiUrl, pat);
    } finally {
      await recorder.close();
      await server.close();
    }
    expect(recorded.map((outcome) => outcome.status)).toEqual([
      200, 202, 201, 202, 201, 201, 200, 307, 200, 200,
    ]);
    expect(recorded[8]?.body.equals(LAYER)).toBe(true);
    const registryToken = (JSON.parse(recorded[0]?.body.toString() ?? '{}') as { token: string }).token;
    const signature = new URL(String(recorded[7]?.headers.location), server.url).searchParams.get('sig');
    expect(signature).toBeTruthy();

    // The server is closed: replay serves everything offline. The PAT must be passed again
    // (the recorded token body is redacted, so the session uses whatever it got back).
    const replayer = createReplayDispatcher({ cassette });
    const replayed = await session(replayer, server.url, server.apiUrl, pat);
    expect(replayed.map(comparable).slice(1)).toEqual(recorded.map(comparable).slice(1));
    expect(replayed[0]?.status).toBe(200);
    expect(JSON.parse(replayed[0]?.body.toString() ?? '{}')).toEqual({ token: 'REDACTED' });
    expect(replayed[8]?.body.equals(LAYER)).toBe(true);
    expect(replayer.remaining).toHaveLength(0);

    const file = readCassette(cassette);
    const layerEntry = file.entries.find((entry) => entry.response?.body.size === LAYER.length);
    expect(layerEntry?.response?.body).toMatchObject({ blob: `blobs/${digestOf(LAYER).replace(':', '-')}` });

    const secrets = [
      pat,
      Buffer.from(pat).toString('base64'),
      Buffer.from(`someone:${pat}`).toString('base64'),
      registryToken,
      String(signature),
      encodeURIComponent(String(signature)),
    ];
    for (const path of await listFiles(directory)) {
      const content = await readFile(path);
      for (const secret of secrets) expect(content.includes(secret), `a secret in ${path}`).toBe(false);
    }
  });
});
