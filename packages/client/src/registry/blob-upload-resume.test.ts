import { randomBytes } from 'node:crypto';
import { digestOf } from '@ghcr/oci-types';
import { settle } from '@ghcr/test-support';
import { describe, expect, it } from 'vitest';
import type { RetryEvent } from '../events.js';
import { drain, simulatedClient } from '../testing/simulated-client.js';
import { type BlobSource, bufferSource } from './blob-source.js';

const MiB = 1024 * 1024;

/** The upload requests the simulation saw, as `operation status`. */
function uploadSteps(sim: ReturnType<typeof simulatedClient>['sim']): string[] {
  return sim.log.entries
    .filter((entry) => entry.operation?.startsWith('blob.upload') === true)
    .map((entry) => `${entry.operation} ${entry.status}`);
}

describe.each(['ghcr', 'distribution'] as const)('a one-PUT upload that fails (%s profile)', (profile) => {
  it('waits as long as Retry-After asks before sending the blob again after a 503', async () => {
    const { sim, client, clock, sleeps } = simulatedClient({ profile });
    sim.faults.add({
      operation: 'blob.upload.put',
      nth: 1,
      action: { type: 'status', status: 503, retryAfter: 1 },
    });
    const bytes = randomBytes(256 * 1024);
    expect((await settle(client.blobs.upload('octo/app', bytes), clock)).method).toBe('uploaded');
    // The transport does not re-send a one-shot body; the upload layer waits as asked, then goes on.
    expect(sleeps).toContain(1000);
    expect(sim.log.byOperation('blob.upload.put').map((entry) => entry.status)).toEqual([503, 201]);
  });

  it('resumes a PUT reset mid-body from the offset the session kept, sending only the rest', async () => {
    const { sim, client, clock } = simulatedClient({ profile });
    sim.faults.add({
      operation: 'blob.upload.put',
      nth: 1,
      action: { type: 'reset', phase: 'request', afterBytes: 700_000 },
    });
    const retries: RetryEvent[] = [];
    client.events.on('retry', (event) => retries.push(event));
    const bytes = randomBytes(MiB + 17);
    expect((await settle(client.blobs.upload('octo/app', bytes), clock)).method).toBe('uploaded');
    expect(uploadSteps(sim)).toEqual([
      'blob.upload.start 202',
      'blob.upload.put 0',
      'blob.upload.status 204',
      'blob.upload.patch 202',
      'blob.upload.put 201',
    ]);
    expect(sim.log.byOperation('blob.upload.patch')[0]?.requestHeaders['content-range']).toBe(
      `700000-${bytes.byteLength - 1}`,
    );
    expect(retries).toMatchObject([{ action: 'resume', offset: 700_000, attempt: 2 }]);
    expect(retries[0]?.message).toMatch(/the session kept 700000 bytes: resuming from byte 700000/);
    expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(0);
  });

  it('starts over with a new session when the registry dropped the old one, and says so', async () => {
    const { sim, client, clock } = simulatedClient({ profile });
    sim.faults.add({
      operation: 'blob.upload.put',
      nth: 1,
      action: { type: 'reset', phase: 'request', afterBytes: 700_000 },
    });
    // docker-registry 2.8 forgets a session whose PUT broke off: 404 BLOB_UPLOAD_UNKNOWN.
    sim.faults.add({ operation: 'blob.upload.status', nth: 1, action: { type: 'status', status: 404 } });
    const retries: RetryEvent[] = [];
    client.events.on('retry', (event) => retries.push(event));
    const bytes = randomBytes(MiB + 17);
    expect((await settle(client.blobs.upload('octo/app', bytes), clock)).method).toBe('uploaded');
    expect(uploadSteps(sim)).toEqual([
      'blob.upload.start 202',
      'blob.upload.put 0',
      'blob.upload.status 404',
      'blob.upload.start 202',
      'blob.upload.put 201',
    ]);
    expect(sim.log.byOperation('blob.upload.put')[1]?.requestBytes).toBe(bytes.byteLength);
    expect(retries).toMatchObject([{ action: 'restart', offset: 0, attempt: 2 }]);
    expect(retries[0]?.message).toMatch(/dropped the upload session: starting over from byte 0/);
    expect(Buffer.compare((await drain(client.blobs.get('octo/app', digestOf(bytes)))).bytes, bytes)).toBe(0);
  });

  it('starts over when the registry answers the PUT that it no longer knows the session (a restart)', async () => {
    const { sim, client, clock } = simulatedClient({ profile });
    sim.faults.add({
      operation: 'blob.upload.put',
      nth: 1,
      action: {
        type: 'status',
        status: 404,
        body: JSON.stringify({
          errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' }],
        }),
      },
    });
    const bytes = randomBytes(300 * 1024);
    expect((await settle(client.blobs.upload('octo/app', bytes), clock)).method).toBe('uploaded');
    expect(uploadSteps(sim)).toEqual([
      'blob.upload.start 202',
      'blob.upload.put 404',
      'blob.upload.status 204',
      'blob.upload.start 202',
      'blob.upload.put 201',
    ]);
  });
});

describe('a one-PUT upload from a source that fetches', () => {
  it('opens the source before it asks for the session, so a fetch overlaps the POST', async () => {
    const { sim, client } = simulatedClient();
    const bytes = randomBytes(300 * 1024);
    const inner = bufferSource(bytes);
    // How many session POSTs the registry had seen each time the source was opened.
    const postsSeenAtOpen: number[] = [];
    const source: BlobSource = {
      size: bytes.byteLength,
      open(offset, signal, options) {
        postsSeenAtOpen.push(sim.log.byOperation('blob.upload.start').length);
        return inner.open(offset, signal, options);
      },
    };
    const result = await client.blobs.upload('octo/app', source, {
      digest: digestOf(bytes),
      size: bytes.byteLength,
      skipExistsCheck: true,
    });
    expect(result.method).toBe('uploaded');
    expect(postsSeenAtOpen).toEqual([0]);
    expect(uploadSteps(sim)).toEqual(['blob.upload.start 202', 'blob.upload.put 201']);
  });
});
