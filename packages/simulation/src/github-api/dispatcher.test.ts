import { digestOf } from '@ghcr/oci-types';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../simulation.js';

/** The API through the simulation's in-process dispatcher, as clients call it (undici.request). */
describe('GitHub Packages API through createSimulation().dispatcher()', () => {
  it('lists, deletes and restores versions; a deleted version leaves the registry view', async () => {
    const simulation = createSimulation({ apiUrl: 'https://api.github.com' });
    simulation.createOrganization('octo', { admins: ['alice'] });
    const pat = simulation.createToken({
      user: 'alice',
      scopes: ['read:packages', 'write:packages', 'delete:packages'],
    });
    const { state } = simulation;
    const repository = state.ensureRepository('octo/team/app', 'alice');
    const versions = ['v1', 'v2'].map((tag) => {
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, tag }));
      return state.putManifest(
        repository,
        {
          digest: digestOf(bytes),
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          bytes,
          references: [],
        },
        tag,
      );
    });
    const dispatcher = simulation.dispatcher();
    const headers = { authorization: `Bearer ${pat}`, 'x-github-api-version': '2022-11-28' };
    const base = 'https://api.github.com/orgs/octo/packages/container/team%2Fapp';

    const listed = await request(`${base}/versions?per_page=1`, { dispatcher, headers });
    expect(listed.statusCode).toBe(200);
    expect(listed.headers.link).toBe(
      `<${base}/versions?per_page=1&page=2>; rel="next", <${base}/versions?per_page=1&page=2>; rel="last"`,
    );
    expect(listed.headers['x-ratelimit-remaining']).toBe('4999');
    expect(await listed.body.json()).toMatchObject([
      { id: versions[1]?.versionId, metadata: { container: { tags: ['v2'] } } },
    ]);

    const target = versions[0]?.versionId;
    const deleted = await request(`${base}/versions/${target}`, { dispatcher, headers, method: 'DELETE' });
    expect(deleted.statusCode).toBe(204);
    await deleted.body.dump();
    expect(state.resolveManifest(repository, 'v1')).toBeUndefined();

    const restored = await request(`${base}/versions/${target}/restore`, {
      dispatcher,
      headers,
      method: 'POST',
    });
    expect(restored.statusCode).toBe(204);
    await restored.body.dump();
    expect(state.resolveManifest(repository, 'v1')?.versionId).toBe(target);

    const anonymous = await request(base, { dispatcher });
    expect(anonymous.statusCode).toBe(401);
    expect(await anonymous.body.json()).toMatchObject({ message: 'Requires authentication' });
    expect(simulation.log.byOperation('api.versions.delete')).toHaveLength(1);
  });
});
