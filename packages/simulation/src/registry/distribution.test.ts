import { buildImageManifest, buildIndex, descriptorOf } from '@ghcr/manifest';
import { digestOf, MediaType } from '@ghcr/oci-types';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTestBed, type TestBed, uploadBlob } from '../testing/test-bed.js';

const NAME = 'acme/widgets';

interface Fixture {
  bed: TestBed;
  token: string;
  pat: string;
}

async function fixture(): Promise<Fixture> {
  const bed = createTestBed({ profile: 'distribution' });
  const pat = bed.sim.createToken({
    user: 'alice',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  bed.sim.createOrganization('acme', { admins: ['alice'] });
  const token = await bed.token(
    pat,
    `repository:${NAME}:pull,push,delete`,
    'repository:acme/other:pull,push',
  );
  return { bed, token, pat };
}

async function pushImage(bed: TestBed, token: string, name = NAME, seed = 'one') {
  const config = await uploadBlob(bed, name, JSON.stringify({ architecture: 'amd64', os: 'linux', seed }), {
    token,
  });
  const layer = await uploadBlob(bed, name, `layer ${seed}`, { token });
  const manifest = buildImageManifest({
    config: {
      mediaType: MediaType.OciConfig,
      digest: config,
      size: JSON.stringify({ architecture: 'amd64', os: 'linux', seed }).length,
    },
    layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer, size: `layer ${seed}`.length }],
  });
  return manifest;
}

describe('distribution profile: API version check and auth', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });

  it('answers GET /v2/ with 200 and the API version header for a token, 401 with a challenge without', async () => {
    const ok = await f.bed.call('GET', '/v2/', { token: f.token });
    expect(ok.status).toBe(200);
    expect(ok.header('docker-distribution-api-version')).toBe('registry/2.0');
    const anonymous = await f.bed.call('GET', '/v2/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.header('www-authenticate')).toBe(
      'Bearer realm="https://ghcr.io/token",service="ghcr.io"',
    );
    expect(anonymous.json()).toEqual({
      errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
    });
  });

  it('challenges repository requests with the repository scope', async () => {
    const response = await f.bed.call('GET', `/v2/${NAME}/tags/list`);
    expect(response.status).toBe(401);
    expect(response.header('www-authenticate')).toBe(
      `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:${NAME}:pull"`,
    );
  });

  it('refuses a pull-only token pushing with insufficient_scope', async () => {
    const pullOnly = await f.bed.token(f.pat, `repository:${NAME}:pull`);
    const response = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, { token: pullOnly });
    expect(response.status).toBe(401);
    expect(response.header('www-authenticate')).toContain(
      `scope="repository:${NAME}:pull,push",error="insufficient_scope"`,
    );
  });

  it('does not accept Bearer base64(PAT) (a ghcr quirk) and issues expiring tokens with expires_in', async () => {
    const direct = await f.bed.call('GET', '/v2/', { pat: f.pat });
    expect(direct.status).toBe(401);
    const response = await f.bed.call('GET', `/token?service=ghcr.io&scope=repository:${NAME}:pull`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${f.pat}`).toString('base64')}` },
    });
    expect(response.json()).toMatchObject({
      expires_in: 300,
      token: expect.any(String),
      access_token: expect.any(String),
    });
    await f.bed.clock.advance(300_000);
    const expired = await f.bed.call('GET', '/v2/', { token: f.token });
    expect(expired.status).toBe(401);
    expect(expired.header('www-authenticate')).toContain('error="invalid_token"');
  });

  it('rejects an invalid repository name with NAME_INVALID', async () => {
    const response = await f.bed.call('GET', '/v2/Acme/Bad/tags/list', { token: f.token });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      errors: [{ code: 'NAME_INVALID', message: 'invalid repository name' }],
    });
  });
});

describe('distribution profile: push', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });

  it('uploads with POST then PUT; the Location is absolute with opaque state and takes &digest=', async () => {
    const started = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, { token: f.token });
    expect(started.status).toBe(202);
    const location = started.header('location') ?? '';
    expect(location).toMatch(new RegExp(`^https://ghcr\\.io/v2/${NAME}/blobs/uploads/[0-9a-f-]+\\?_state=`));
    expect(started.header('docker-upload-uuid')).toBeDefined();
    expect(started.header('range')).toBe('0-0');
    const data = Buffer.from('monolithic');
    const put = await f.bed.call('PUT', `${location}&digest=${digestOf(data)}`, {
      token: f.token,
      body: data,
    });
    expect(put.status).toBe(201);
    expect(put.header('location')).toBe(`/v2/${NAME}/blobs/${digestOf(data)}`);
    expect(put.header('docker-content-digest')).toBe(digestOf(data));
  });

  it('supports a single POST ?digest= upload (201), and answers DIGEST_INVALID on a wrong digest', async () => {
    const data = Buffer.from('single post');
    const ok = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/?digest=${digestOf(data)}`, {
      token: f.token,
      body: data,
    });
    expect(ok.status).toBe(201);
    const wrong = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/?digest=${digestOf('other')}`, {
      token: f.token,
      body: data,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({
      errors: [{ code: 'DIGEST_INVALID', message: 'provided digest did not match uploaded content' }],
    });
  });

  it('uploads in chunks with Content-Range, refuses an out-of-order chunk with 416 and the current Range, and reports status', async () => {
    const data = Buffer.from('0123456789abcdefghij');
    const started = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, {
      token: f.token,
      headers: { 'content-length': '0' },
    });
    let location = started.header('location') ?? '';
    const first = await f.bed.call('PATCH', location, {
      token: f.token,
      body: data.subarray(0, 8),
      headers: { 'content-range': '0-7', 'content-type': 'application/octet-stream' },
    });
    expect(first.status).toBe(202);
    expect(first.header('range')).toBe('0-7');
    location = first.header('location') ?? '';
    const outOfOrder = await f.bed.call('PATCH', location, {
      token: f.token,
      body: data.subarray(10, 12),
      headers: { 'content-range': '10-11' },
    });
    expect(outOfOrder.status).toBe(416);
    expect(outOfOrder.header('range')).toBe('0-7');
    expect(outOfOrder.json()).toMatchObject({ errors: [{ code: 'BLOB_UPLOAD_INVALID' }] });
    const status = await f.bed.call('GET', location, { token: f.token });
    expect(status.status).toBe(204);
    expect(status.header('range')).toBe('0-7');
    expect(status.header('location')).toBe(location);
    const second = await f.bed.call('PATCH', location, {
      token: f.token,
      body: data.subarray(8, 15),
      headers: { 'content-range': '8-14' },
    });
    expect(second.status).toBe(202);
    expect(second.header('range')).toBe('0-14');
    const put = await f.bed.call('PUT', `${second.header('location')}&digest=${digestOf(data)}`, {
      token: f.token,
      body: data.subarray(15),
      headers: { 'content-range': '15-19' },
    });
    expect(put.status).toBe(201);
    const blob = await f.bed.call('GET', `/v2/${NAME}/blobs/${digestOf(data)}`, { token: f.token });
    expect(blob.body.equals(data)).toBe(true);
  });

  it('streams a PATCH without Content-Range, then closes with an empty PUT', async () => {
    const started = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, { token: f.token });
    async function* chunks() {
      for (let i = 0; i < 16; i++) yield Buffer.alloc(64 * 1024, i);
    }
    const patched = await f.bed.call('PATCH', started.header('location') ?? '', {
      token: f.token,
      body: chunks(),
    });
    expect(patched.status).toBe(202);
    expect(patched.header('range')).toBe(`0-${16 * 64 * 1024 - 1}`);
    const expected = Buffer.concat(Array.from({ length: 16 }, (_, i) => Buffer.alloc(64 * 1024, i)));
    const put = await f.bed.call('PUT', `${patched.header('location')}&digest=${digestOf(expected)}`, {
      token: f.token,
    });
    expect(put.status).toBe(201);
  });

  it('rejects a closing PUT whose digest does not match with DIGEST_INVALID and forgets the session', async () => {
    const started = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, { token: f.token });
    const location = started.header('location') ?? '';
    const put = await f.bed.call('PUT', `${location}&digest=${digestOf('something else')}`, {
      token: f.token,
      body: 'content',
    });
    expect(put.status).toBe(400);
    expect(put.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    expect((await f.bed.call('GET', location, { token: f.token })).status).toBe(404);
    const fresh = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, { token: f.token });
    const noDigest = await f.bed.call('PUT', fresh.header('location') ?? '', { token: f.token });
    expect(noDigest.status).toBe(400);
    expect(noDigest.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });

  it('cancels an upload with DELETE (204), then answers BLOB_UPLOAD_UNKNOWN', async () => {
    const started = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/`, { token: f.token });
    const location = started.header('location') ?? '';
    expect((await f.bed.call('DELETE', location, { token: f.token })).status).toBe(204);
    const after = await f.bed.call('PATCH', location, { token: f.token, body: 'x' });
    expect(after.status).toBe(404);
    expect(after.json()).toMatchObject({
      errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown to registry' }],
    });
  });

  it('mounts a blob from another readable repository (201) and starts a session when it cannot (202)', async () => {
    const digest = await uploadBlob(f.bed, 'acme/other', 'shared layer', { token: f.token });
    const mounted = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/?mount=${digest}&from=acme/other`, {
      token: f.token,
    });
    expect(mounted.status).toBe(201);
    expect(mounted.header('location')).toBe(`/v2/${NAME}/blobs/${digest}`);
    expect(mounted.header('docker-content-digest')).toBe(digest);
    const unknown = await f.bed.call(
      'POST',
      `/v2/${NAME}/blobs/uploads/?mount=${digestOf('nowhere')}&from=acme/other`,
      { token: f.token },
    );
    expect(unknown.status).toBe(202);
    expect(unknown.header('location')).toContain('/blobs/uploads/');
  });

  it('mounts without from when the blob is in a repository the caller can read', async () => {
    const digest = await uploadBlob(f.bed, 'acme/other', 'found anyway', { token: f.token });
    const mounted = await f.bed.call('POST', `/v2/${NAME}/blobs/uploads/?mount=${digest}`, {
      token: f.token,
    });
    expect(mounted.status).toBe(201);
    const unreadable = await f.bed.token(f.pat, 'repository:acme/third:pull,push');
    const notMounted = await f.bed.call('POST', `/v2/acme/third/blobs/uploads/?mount=${digest}`, {
      token: unreadable,
    });
    expect(notMounted.status).toBe(202);
  });

  it('stores a manifest by tag with its exact bytes, Location and Docker-Content-Digest', async () => {
    const manifest = await pushImage(f.bed, f.token);
    const put = await f.bed.call('PUT', `/v2/${NAME}/manifests/v1`, {
      token: f.token,
      body: manifest.bytes,
      headers: { 'content-type': manifest.mediaType },
    });
    expect(put.status).toBe(201);
    expect(put.header('location')).toBe(`/v2/${NAME}/manifests/${manifest.digest}`);
    expect(put.header('docker-content-digest')).toBe(manifest.digest);
    expect(put.header('oci-subject')).toBeUndefined();
    const get = await f.bed.call('GET', `/v2/${NAME}/manifests/v1`, {
      token: f.token,
      headers: { accept: MediaType.OciManifest },
    });
    expect(get.status).toBe(200);
    expect(Buffer.from(manifest.bytes).equals(get.body)).toBe(true);
    expect(get.header('content-type')).toBe(MediaType.OciManifest);
    expect(get.header('docker-content-digest')).toBe(manifest.digest);
  });

  it('refuses a manifest whose blobs or children are missing with MANIFEST_BLOB_UNKNOWN per missing digest', async () => {
    const manifest = buildImageManifest({
      config: { mediaType: MediaType.OciConfig, digest: digestOf('config'), size: 6 },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf('layer'), size: 5 }],
    });
    const put = await f.bed.call('PUT', `/v2/${NAME}/manifests/v1`, {
      token: f.token,
      body: manifest.bytes,
      headers: { 'content-type': manifest.mediaType },
    });
    expect(put.status).toBe(400);
    const body = put.json<{ errors: { code: string; detail: { digest: string } }[] }>();
    expect(body.errors.map((error) => [error.code, error.detail.digest])).toEqual([
      ['MANIFEST_BLOB_UNKNOWN', digestOf('config')],
      ['MANIFEST_BLOB_UNKNOWN', digestOf('layer')],
    ]);
    expect(f.bed.sim.state.getRepository(NAME)).toBeUndefined();
    const index = buildIndex({
      manifests: [descriptorOf(manifest, { platform: { architecture: 'amd64', os: 'linux' } })],
    });
    const indexPut = await f.bed.call('PUT', `/v2/${NAME}/manifests/multi`, {
      token: f.token,
      body: index.bytes,
      headers: { 'content-type': index.mediaType },
    });
    expect(indexPut.status).toBe(400);
    expect(indexPut.json()).toMatchObject({
      errors: [{ code: 'MANIFEST_BLOB_UNKNOWN', detail: { digest: manifest.digest } }],
    });
  });

  it('refuses a manifest PUT by digest whose bytes hash differently with DIGEST_INVALID, and invalid JSON with MANIFEST_INVALID', async () => {
    const manifest = await pushImage(f.bed, f.token);
    const wrong = await f.bed.call('PUT', `/v2/${NAME}/manifests/${digestOf('x')}`, {
      token: f.token,
      body: manifest.bytes,
      headers: { 'content-type': manifest.mediaType },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
    const invalid = await f.bed.call('PUT', `/v2/${NAME}/manifests/v1`, {
      token: f.token,
      body: '{"schemaVersion": 2',
      headers: { 'content-type': MediaType.OciManifest },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json()).toMatchObject({
      errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid' }],
    });
  });

  it('answers 413 to a manifest over maxManifestBytes', async () => {
    const small = createTestBed({ profile: 'distribution', maxManifestBytes: 1024 });
    const pat = small.sim.createToken({ user: 'alice', scopes: ['write:packages'] });
    const token = await small.token(pat, `repository:alice/big:pull,push`);
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [],
      annotations: { pad: 'x'.repeat(2000) },
    });
    const response = await small.call('PUT', '/v2/alice/big/manifests/v1', {
      token,
      body,
      headers: { 'content-type': MediaType.OciIndex },
    });
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({ errors: [{ code: 'MANIFEST_INVALID' }] });
    async function* streamed() {
      yield Buffer.from(body);
    }
    const chunked = await small.call('PUT', '/v2/alice/big/manifests/v1', {
      token,
      body: streamed(),
      headers: { 'content-type': MediaType.OciIndex },
    });
    expect(chunked.status).toBe(413);
  });

  it('answers OCI-Subject when a manifest with a subject is pushed, and lists it in the referrers API with filtering', async () => {
    const subject = await pushImage(f.bed, f.token);
    await f.bed.call('PUT', `/v2/${NAME}/manifests/v1`, {
      token: f.token,
      body: subject.bytes,
      headers: { 'content-type': subject.mediaType },
    });
    const empty = await uploadBlob(f.bed, NAME, '{}', { token: f.token });
    const sbomLayer = await uploadBlob(f.bed, NAME, 'sbom', { token: f.token });
    const sigLayer = await uploadBlob(f.bed, NAME, 'sig', { token: f.token });
    const emptyDescriptor = { mediaType: MediaType.OciEmpty, digest: empty, size: 2 };
    const sbom = buildImageManifest({
      config: emptyDescriptor,
      layers: [{ mediaType: 'application/spdx+json', digest: sbomLayer, size: 4 }],
      artifactType: 'application/spdx+json',
      subject: descriptorOf(subject),
      annotations: { 'org.example.kind': 'sbom' },
    });
    const signature = buildImageManifest({
      config: { mediaType: 'application/vnd.example.sig.config+json', digest: empty, size: 2 },
      layers: [{ mediaType: 'application/octet-stream', digest: sigLayer, size: 3 }],
      subject: descriptorOf(subject),
    });
    for (const referrer of [sbom, signature]) {
      const put = await f.bed.call('PUT', `/v2/${NAME}/manifests/${referrer.digest}`, {
        token: f.token,
        body: referrer.bytes,
        headers: { 'content-type': referrer.mediaType },
      });
      expect(put.status).toBe(201);
      expect(put.header('oci-subject')).toBe(subject.digest);
    }
    const all = await f.bed.call('GET', `/v2/${NAME}/referrers/${subject.digest}`, { token: f.token });
    expect(all.status).toBe(200);
    expect(all.header('content-type')).toBe(MediaType.OciIndex);
    expect(all.header('oci-filters-applied')).toBeUndefined();
    expect(all.json()).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        {
          mediaType: MediaType.OciManifest,
          digest: sbom.digest,
          size: sbom.size,
          artifactType: 'application/spdx+json',
          annotations: { 'org.example.kind': 'sbom' },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: signature.digest,
          size: signature.size,
          artifactType: 'application/vnd.example.sig.config+json',
        },
      ],
    });
    const filtered = await f.bed.call(
      'GET',
      `/v2/${NAME}/referrers/${subject.digest}?artifactType=${encodeURIComponent('application/spdx+json')}`,
      { token: f.token },
    );
    expect(filtered.header('oci-filters-applied')).toBe('artifactType');
    expect(
      filtered.json<{ manifests: { digest: string }[] }>().manifests.map((entry) => entry.digest),
    ).toEqual([sbom.digest]);
    const none = await f.bed.call('GET', `/v2/${NAME}/referrers/${digestOf('no referrers')}`, {
      token: f.token,
    });
    expect(none.status).toBe(200);
    expect(none.json()).toMatchObject({ manifests: [] });
    const invalid = await f.bed.call('GET', `/v2/${NAME}/referrers/sha256:nothex`, { token: f.token });
    expect(invalid.status).toBe(400);
  });

  it('answers 200 with an empty index, never 404, for a subject in a repository nothing was pushed to', async () => {
    const token = await f.bed.token(f.pat, `repository:${NAME}-new:pull`);
    const response = await f.bed.call('GET', `/v2/${NAME}-new/referrers/${digestOf('no such subject')}`, {
      token,
    });
    expect(response.status).toBe(200);
    expect(response.header('content-type')).toBe(MediaType.OciIndex);
    expect(response.json()).toEqual({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
  });
});

describe('distribution profile: pull and content negotiation', () => {
  let f: Fixture;
  let manifest: Awaited<ReturnType<typeof pushImage>>;
  beforeEach(async () => {
    f = await fixture();
    manifest = await pushImage(f.bed, f.token);
    await f.bed.call('PUT', `/v2/${NAME}/manifests/latest`, {
      token: f.token,
      body: manifest.bytes,
      headers: { 'content-type': manifest.mediaType },
    });
  });

  it('answers HEAD with the size as Content-Length and no body', async () => {
    const head = await f.bed.call('HEAD', `/v2/${NAME}/manifests/latest`, {
      token: f.token,
      headers: { accept: MediaType.OciManifest },
    });
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe(String(manifest.size));
    expect(head.header('docker-content-digest')).toBe(manifest.digest);
    expect(head.body.byteLength).toBe(0);
  });

  it('serves an OCI manifest with no Accept, but 404s when Accept lacks its type (as distribution does)', async () => {
    expect((await f.bed.call('GET', `/v2/${NAME}/manifests/latest`, { token: f.token })).status).toBe(200);
    const docker = await f.bed.call('GET', `/v2/${NAME}/manifests/latest`, {
      token: f.token,
      headers: { accept: MediaType.DockerManifest },
    });
    expect(docker.status).toBe(404);
    expect(docker.json()).toMatchObject({ errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    const wildcard = await f.bed.call('GET', `/v2/${NAME}/manifests/latest`, {
      token: f.token,
      headers: { accept: '*/*' },
    });
    expect(wildcard.status).toBe(404);
    const listed = await f.bed.call('GET', `/v2/${NAME}/manifests/latest`, {
      token: f.token,
      headers: { accept: `${MediaType.DockerManifest};q=0.9, ${MediaType.OciManifest}` },
    });
    expect(listed.status).toBe(200);
  });

  it('answers NAME_UNKNOWN, MANIFEST_UNKNOWN and BLOB_UNKNOWN with the spec messages', async () => {
    const token = await f.bed.token(f.pat, 'repository:acme/none:pull');
    expect((await f.bed.call('GET', '/v2/acme/none/manifests/latest', { token })).json()).toEqual({
      errors: [
        {
          code: 'NAME_UNKNOWN',
          message: 'repository name not known to registry',
          detail: { name: 'acme/none' },
        },
      ],
    });
    const manifestMissing = await f.bed.call('GET', `/v2/${NAME}/manifests/nope`, { token: f.token });
    expect(manifestMissing.status).toBe(404);
    expect(manifestMissing.json()).toMatchObject({
      errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown to registry' }],
    });
    const blobMissing = await f.bed.call('GET', `/v2/${NAME}/blobs/${digestOf('absent')}`, {
      token: f.token,
    });
    expect(blobMissing.status).toBe(404);
    expect(blobMissing.json()).toMatchObject({
      errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }],
    });
    const headMissing = await f.bed.call('HEAD', `/v2/${NAME}/blobs/${digestOf('absent')}`, {
      token: f.token,
    });
    expect(headMissing.status).toBe(404);
  });

  it('serves blobs directly (no redirect), with Range → 206 and unsatisfiable → 416', async () => {
    const data = Buffer.from('0123456789');
    const digest = await uploadBlob(f.bed, NAME, data, { token: f.token });
    const whole = await f.bed.call('GET', `/v2/${NAME}/blobs/${digest}`, { token: f.token });
    expect(whole.status).toBe(200);
    expect(whole.header('docker-content-digest')).toBe(digest);
    expect(whole.text).toBe('0123456789');
    const part = await f.bed.call('GET', `/v2/${NAME}/blobs/${digest}`, {
      token: f.token,
      headers: { range: 'bytes=2-5' },
    });
    expect(part.status).toBe(206);
    expect(part.header('content-range')).toBe('bytes 2-5/10');
    expect(part.text).toBe('2345');
    const suffix = await f.bed.call('GET', `/v2/${NAME}/blobs/${digest}`, {
      token: f.token,
      headers: { range: 'bytes=-3' },
    });
    expect(suffix.text).toBe('789');
    const open = await f.bed.call('GET', `/v2/${NAME}/blobs/${digest}`, {
      token: f.token,
      headers: { range: 'bytes=7-' },
    });
    expect(open.text).toBe('789');
    const beyond = await f.bed.call('GET', `/v2/${NAME}/blobs/${digest}`, {
      token: f.token,
      headers: { range: 'bytes=10-' },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.header('content-range')).toBe('bytes */10');
    const head = await f.bed.call('HEAD', `/v2/${NAME}/blobs/${digest}`, { token: f.token });
    expect(head.header('content-length')).toBe('10');
    expect(head.body.byteLength).toBe(0);
  });
});

describe('distribution profile: content discovery and management', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });

  async function tagAll(tags: string[]) {
    const manifest = await pushImage(f.bed, f.token);
    for (const tag of tags) {
      await f.bed.call('PUT', `/v2/${NAME}/manifests/${tag}`, {
        token: f.token,
        body: manifest.bytes,
        headers: { 'content-type': manifest.mediaType },
      });
    }
    return manifest;
  }

  it('lists tags in lexical order with n, last and a Link header', async () => {
    await tagAll(['b', 'A', 'c', 'a1', 'D']);
    const all = await f.bed.call('GET', `/v2/${NAME}/tags/list`, { token: f.token });
    expect(all.json()).toEqual({ name: NAME, tags: ['A', 'a1', 'b', 'c', 'D'] });
    expect(all.header('link')).toBeUndefined();
    const first = await f.bed.call('GET', `/v2/${NAME}/tags/list?n=2`, { token: f.token });
    expect(first.json()).toEqual({ name: NAME, tags: ['A', 'a1'] });
    expect(first.header('link')).toBe(`</v2/${NAME}/tags/list?n=2&last=a1>; rel="next"`);
    const next = await f.bed.call('GET', `/v2/${NAME}/tags/list?n=2&last=a1`, { token: f.token });
    expect(next.json()).toEqual({ name: NAME, tags: ['b', 'c'] });
    const last = await f.bed.call('GET', `/v2/${NAME}/tags/list?n=2&last=c`, { token: f.token });
    expect(last.json()).toEqual({ name: NAME, tags: ['D'] });
    expect(last.header('link')).toBeUndefined();
    const zero = await f.bed.call('GET', `/v2/${NAME}/tags/list?n=0`, { token: f.token });
    expect(zero.json()).toEqual({ name: NAME, tags: [] });
    expect(zero.header('link')).toBeUndefined();
    const onlyLast = await f.bed.call('GET', `/v2/${NAME}/tags/list?last=b`, { token: f.token });
    expect(onlyLast.json()).toEqual({ name: NAME, tags: ['c', 'D'] });
  });

  it('deletes a tag (202) leaving the manifest, and a manifest by digest (202) with its tags', async () => {
    const manifest = await tagAll(['one', 'two']);
    expect((await f.bed.call('DELETE', `/v2/${NAME}/manifests/one`, { token: f.token })).status).toBe(202);
    expect((await f.bed.call('GET', `/v2/${NAME}/manifests/one`, { token: f.token })).status).toBe(404);
    expect(
      (await f.bed.call('GET', `/v2/${NAME}/manifests/${manifest.digest}`, { token: f.token })).status,
    ).toBe(200);
    expect(
      (await f.bed.call('DELETE', `/v2/${NAME}/manifests/${manifest.digest}`, { token: f.token })).status,
    ).toBe(202);
    expect((await f.bed.call('GET', `/v2/${NAME}/manifests/two`, { token: f.token })).status).toBe(404);
    expect(
      (await f.bed.call('GET', `/v2/${NAME}/manifests/${manifest.digest}`, { token: f.token })).status,
    ).toBe(404);
    expect(
      (await f.bed.call('DELETE', `/v2/${NAME}/manifests/${manifest.digest}`, { token: f.token })).status,
    ).toBe(404);
  });

  it('deletes a blob (202), then answers 404', async () => {
    const digest = await uploadBlob(f.bed, NAME, 'to delete', { token: f.token });
    expect((await f.bed.call('DELETE', `/v2/${NAME}/blobs/${digest}`, { token: f.token })).status).toBe(202);
    expect((await f.bed.call('GET', `/v2/${NAME}/blobs/${digest}`, { token: f.token })).status).toBe(404);
    expect((await f.bed.call('DELETE', `/v2/${NAME}/blobs/${digest}`, { token: f.token })).status).toBe(404);
  });

  it('requires the delete action to delete', async () => {
    const manifest = await tagAll(['keep']);
    const pushOnly = await f.bed.token(f.pat, `repository:${NAME}:pull,push`);
    const refused = await f.bed.call('DELETE', `/v2/${NAME}/manifests/${manifest.digest}`, {
      token: pushOnly,
    });
    expect(refused.status).toBe(401);
    expect(refused.header('www-authenticate')).toContain(
      `scope="repository:${NAME}:delete",error="insufficient_scope"`,
    );
  });
});
