import { beforeEach, describe, expect, it } from 'vitest';
import { RESTORE_WINDOW_MS } from '../state/simulation-state.js';
import { type ApiTestBed, createApiTestBed } from '../testing/api-test-bed.js';

const START = Date.UTC(2026, 0, 1);
const DAY = 24 * 60 * 60 * 1000;

async function json(response: Response): Promise<unknown> {
  return JSON.parse(await response.text());
}

/**
 * World: organisation `octo` (admin alice) with a private package `team/app` (3 versions) and a
 * public package `tool`; user `bob` with his own private package `bobs`.
 */
function seed(bed: ApiTestBed) {
  bed.state.createOrganization('octo', ['alice']);
  bed.state.createUser('bob');
  const v1 = bed.push('octo/team/app', 'v1');
  void bed.clock.set(START + 1000);
  const v2 = bed.push('octo/team/app', 'v2');
  const v3 = bed.push('octo/team/app', 'latest');
  const tool = bed.push('octo/tool', 'latest');
  bed.push('octo/tool', 'old');
  bed.state.setVisibility('octo', 'tool', 'public');
  const bobs = bed.push('bob/bobs', 'latest');
  bed.push('bob/bobs', 'prev');
  return {
    v1,
    v2,
    v3,
    tool,
    bobs,
    alice: bed.token('alice', ['read:packages', 'write:packages', 'delete:packages']),
    aliceRead: bed.token('alice', ['read:packages']),
    aliceNoScope: bed.token('alice', []),
    bob: bed.token('bob', ['read:packages', 'delete:packages', 'write:packages']),
  };
}

describe('GitHub Packages API: users', () => {
  let bed: ApiTestBed;
  let world: ReturnType<typeof seed>;
  beforeEach(() => {
    bed = createApiTestBed();
    world = seed(bed);
  });

  it('GET /users/{name} answers type User or Organization, without a token', async () => {
    const org = await bed.call('GET', '/users/octo');
    expect(org.status).toBe(200);
    expect(await json(org)).toMatchObject({
      login: 'octo',
      type: 'Organization',
      url: 'https://api.github.com/users/octo',
    });
    const user = await bed.call('GET', '/users/BOB');
    expect(await json(user)).toMatchObject({ login: 'bob', type: 'User', site_admin: false });
    const missing = await bed.call('GET', '/users/nobody');
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest/users/users#get-a-user',
      status: '404',
    });
  });

  it('GET /user needs a token and returns its user', async () => {
    const anonymous = await bed.call('GET', '/user');
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toMatchObject({ message: 'Requires authentication' });
    const me = await bed.call('GET', '/user', { token: world.aliceNoScope });
    expect(me.status).toBe(200);
    expect(await json(me)).toMatchObject({ login: 'alice', type: 'User' });
    expect(me.headers.get('x-oauth-scopes')).toBe('');
    expect(bed.operations).toContain('api.user.get');
  });

  it('accepts Bearer, token and Basic credentials, and refuses a bad token with 401 "Bad credentials"', async () => {
    for (const authorization of [
      `Bearer ${world.alice}`,
      `token ${world.alice}`,
      `Basic ${Buffer.from(`anything:${world.alice}`).toString('base64')}`,
    ]) {
      expect((await bed.call('GET', '/user', { authorization })).status).toBe(200);
    }
    const bad = await bed.call('GET', '/user', { authorization: 'Bearer ghp_doesnotexist' });
    expect(bad.status).toBe(401);
    expect(await json(bad)).toEqual({
      message: 'Bad credentials',
      documentation_url: 'https://docs.github.com/rest',
      status: '401',
    });
  });
});

describe('GitHub Packages API: packages', () => {
  let bed: ApiTestBed;
  let world: ReturnType<typeof seed>;
  beforeEach(() => {
    bed = createApiTestBed();
    world = seed(bed);
  });

  it('requires authentication and the read:packages scope, with GitHub bodies', async () => {
    const anonymous = await bed.call('GET', '/orgs/octo/packages?package_type=container');
    expect(anonymous.status).toBe(401);
    expect(await json(anonymous)).toEqual({
      message: 'Requires authentication',
      documentation_url: 'https://docs.github.com/rest/packages/packages',
      status: '401',
    });
    const noScope = await bed.call('GET', '/orgs/octo/packages?package_type=container', {
      token: world.aliceNoScope,
    });
    expect(noScope.status).toBe(403);
    expect(await json(noScope)).toMatchObject({
      message: 'You need at least read:packages scope to list packages.',
    });
    const getNoScope = await bed.call('GET', '/orgs/octo/packages/container/tool', {
      token: world.aliceNoScope,
    });
    expect(await json(getNoScope)).toMatchObject({
      message: 'You need at least read:packages scope to get a package.',
    });
  });

  it("lists an organisation's packages, filtered by visibility and by what the caller may see", async () => {
    const all = await bed.call('GET', '/orgs/octo/packages?package_type=container', {
      token: world.aliceRead,
    });
    expect(all.status).toBe(200);
    expect((await json(all)) as { name: string }[]).toMatchObject([{ name: 'team/app' }, { name: 'tool' }]);
    const publicOnly = await bed.call('GET', '/orgs/octo/packages?package_type=container&visibility=public', {
      token: world.aliceRead,
    });
    expect(((await json(publicOnly)) as { name: string }[]).map((p) => p.name)).toEqual(['tool']);
    const privateOnly = await bed.call(
      'GET',
      '/orgs/octo/packages?package_type=container&visibility=private',
      {
        token: world.aliceRead,
      },
    );
    expect(((await json(privateOnly)) as { name: string }[]).map((p) => p.name)).toEqual(['team/app']);
    // bob is no admin of octo: he sees only the public package.
    const asBob = await bed.call('GET', '/orgs/octo/packages?package_type=container', { token: world.bob });
    expect(((await json(asBob)) as { name: string }[]).map((p) => p.name)).toEqual(['tool']);
    // Parameters.
    const noType = await bed.call('GET', '/orgs/octo/packages', { token: world.aliceRead });
    expect(noType.status).toBe(422);
    expect(await json(noType)).toMatchObject({ message: 'The package_type parameter is required.' });
    const badType = await bed.call('GET', '/orgs/octo/packages?package_type=pip', { token: world.aliceRead });
    expect(badType.status).toBe(422);
    const npm = await bed.call('GET', '/orgs/octo/packages?package_type=npm', { token: world.aliceRead });
    expect(await json(npm)).toEqual([]);
    const badVisibility = await bed.call(
      'GET',
      '/orgs/octo/packages?package_type=container&visibility=secret',
      {
        token: world.aliceRead,
      },
    );
    expect(badVisibility.status).toBe(422);
    expect(await json(badVisibility)).toMatchObject({ message: 'The visibility parameter is invalid.' });
  });

  it('lists the packages of a user and of the authenticated user; /orgs and /users are not interchangeable', async () => {
    const mine = await bed.call('GET', '/user/packages?package_type=container', { token: world.bob });
    expect(((await json(mine)) as { name: string }[]).map((p) => p.name)).toEqual(['bobs']);
    const his = await bed.call('GET', '/users/bob/packages?package_type=container', { token: world.bob });
    expect(((await json(his)) as { name: string }[]).map((p) => p.name)).toEqual(['bobs']);
    const hidden = await bed.call('GET', '/users/bob/packages?package_type=container', {
      token: world.aliceRead,
    });
    expect(await json(hidden)).toEqual([]);
    expect(
      (await bed.call('GET', '/users/octo/packages?package_type=container', { token: world.alice })).status,
    ).toBe(404);
    expect(
      (await bed.call('GET', '/orgs/bob/packages?package_type=container', { token: world.alice })).status,
    ).toBe(404);
  });

  it('gets a package whose name holds a "/" (URL-encoded), shaped as GitHub returns it', async () => {
    const response = await bed.call('GET', '/orgs/octo/packages/container/team%2Fapp', {
      token: world.aliceRead,
    });
    expect(response.status).toBe(200);
    const body = (await json(response)) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: world.v1.repository.package?.id,
      name: 'team/app',
      package_type: 'container',
      version_count: 3,
      visibility: 'private',
      url: 'https://api.github.com/orgs/octo/packages/container/team%2Fapp',
      html_url: 'https://github.com/orgs/octo/packages/container/package/team%2Fapp',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:01Z',
      owner: { login: 'octo', type: 'Organization', id: bed.state.getOwner('octo')?.id },
    });
    expect(Object.keys(body).sort()).toEqual(
      [
        'created_at',
        'html_url',
        'id',
        'name',
        'owner',
        'package_type',
        'updated_at',
        'url',
        'version_count',
        'visibility',
      ].sort(),
    );
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // Unencoded, the name splits into segments and matches nothing.
    expect(
      (await bed.call('GET', '/orgs/octo/packages/container/team/app', { token: world.aliceRead })).status,
    ).toBe(404);
    // Private and not administered by the caller: "Package not found."
    const asBob = await bed.call('GET', '/orgs/octo/packages/container/team%2Fapp', { token: world.bob });
    expect(asBob.status).toBe(404);
    expect(await json(asBob)).toMatchObject({ message: 'Package not found.' });
    // HEAD: headers only.
    const head = await bed.call('HEAD', '/orgs/octo/packages/container/team%2Fapp', {
      token: world.aliceRead,
    });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('deletes a package (admin + delete:packages) and restores it within 30 days, by name or restore token', async () => {
    const path = '/orgs/octo/packages/container/tool';
    const readOnly = await bed.call('DELETE', path, { token: world.aliceRead });
    expect(readOnly.status).toBe(403);
    expect(await json(readOnly)).toMatchObject({
      message: 'You need at least delete:packages and read:packages scopes to delete a package.',
    });
    // bob can read the public package but is no admin of octo.
    const notAdmin = await bed.call('DELETE', path, { token: world.bob });
    expect(notAdmin.status).toBe(403);
    expect((await bed.call('DELETE', path, { token: world.alice })).status).toBe(204);
    expect(bed.state.findPackage('octo', 'tool')).toBeUndefined();
    expect((await bed.call('GET', path, { token: world.alice })).status).toBe(404);
    expect((await bed.call('DELETE', path, { token: world.alice })).status).toBe(404);

    const packageId = world.tool.repository.package?.id;
    const wrongToken = await bed.call('POST', `${path}/restore?token=999`, { token: world.alice });
    expect(wrongToken.status).toBe(404);
    const noWrite = await bed.call('POST', `${path}/restore`, { token: world.aliceRead });
    expect(await json(noWrite)).toMatchObject({
      message: 'You need at least write:packages and read:packages scopes to restore a package.',
    });
    expect(
      (await bed.call('POST', `${path}/restore?token=${packageId}`, { token: world.alice })).status,
    ).toBe(204);
    expect(bed.state.findPackage('octo', 'tool')?.package?.id).toBe(packageId);
  });

  it('refuses to restore a package after 30 days, or when its name was reused', async () => {
    const path = '/orgs/octo/packages/container/tool';
    expect((await bed.call('DELETE', path, { token: world.alice })).status).toBe(204);
    bed.push('octo/tool', 'new', 'alice');
    const reused = await bed.call('POST', `${path}/restore`, { token: world.alice });
    expect(reused.status).toBe(409);
    expect(await json(reused)).toMatchObject({
      message: 'An active package already exists with given name.',
    });

    const app = '/orgs/octo/packages/container/team%2Fapp';
    expect((await bed.call('DELETE', app, { token: world.alice })).status).toBe(204);
    await bed.clock.advance(RESTORE_WINDOW_MS + DAY);
    const late = await bed.call('POST', `${app}/restore`, { token: world.alice });
    expect(late.status).toBe(404);
    expect(await json(late)).toMatchObject({ message: 'Package not found.' });
  });

  it('refuses to delete a public package with a version downloaded more than 5,000 times', async () => {
    world.tool.manifest.downloadCount = 5001;
    const response = await bed.call('DELETE', '/orgs/octo/packages/container/tool', { token: world.alice });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({
      message:
        'Publicly visible packages with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.',
    });
  });
});

describe('GitHub Packages API: versions', () => {
  let bed: ApiTestBed;
  let world: ReturnType<typeof seed>;
  const versions = '/orgs/octo/packages/container/team%2Fapp/versions';
  beforeEach(() => {
    bed = createApiTestBed();
    world = seed(bed);
  });

  it('lists versions newest first, shaped as GitHub returns them', async () => {
    const response = await bed.call('GET', versions, { token: world.aliceRead });
    expect(response.status).toBe(200);
    expect(response.headers.get('link')).toBeNull();
    const body = (await json(response)) as Record<string, unknown>[];
    expect(body.map((version) => version.id)).toEqual([
      world.v3.manifest.versionId,
      world.v2.manifest.versionId,
      world.v1.manifest.versionId,
    ]);
    expect(body[2]).toEqual({
      id: world.v1.manifest.versionId,
      name: world.v1.manifest.digest,
      url: `https://api.github.com/orgs/octo/packages/container/team%2Fapp/versions/${world.v1.manifest.versionId}`,
      package_html_url: 'https://github.com/orgs/octo/packages/container/package/team%2Fapp',
      html_url: `https://github.com/orgs/octo/packages/container/team%2Fapp/${world.v1.manifest.versionId}`,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      metadata: { package_type: 'container', container: { tags: ['v1'] } },
    });
    expect(body[2]?.name).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('paginates with page and per_page (capped at 100) and a Link header carrying per_page', async () => {
    for (let i = 0; i < 5; i++) bed.push('octo/team/app', `extra-${i}`);
    // 8 versions, 3 per page: page 2 of 3.
    const middle = await bed.call('GET', `${versions}?per_page=3&page=2`, { token: world.aliceRead });
    expect(((await json(middle)) as unknown[]).length).toBe(3);
    const base = `https://api.github.com${versions}`;
    expect(middle.headers.get('link')).toBe(
      [
        `<${base}?per_page=3&page=1>; rel="prev"`,
        `<${base}?per_page=3&page=3>; rel="next"`,
        `<${base}?per_page=3&page=3>; rel="last"`,
        `<${base}?per_page=3&page=1>; rel="first"`,
      ].join(', '),
    );
    const last = await bed.call('GET', `${versions}?per_page=3&page=3&state=active`, {
      token: world.aliceRead,
    });
    expect(((await json(last)) as unknown[]).length).toBe(2);
    expect(last.headers.get('link')).toBe(
      `<${base}?per_page=3&page=2&state=active>; rel="prev", <${base}?per_page=3&page=1&state=active>; rel="first"`,
    );
    const first = await bed.call('GET', `${versions}?per_page=5`, { token: world.aliceRead });
    expect(first.headers.get('link')).toBe(
      `<${base}?per_page=5&page=2>; rel="next", <${base}?per_page=5&page=2>; rel="last"`,
    );
    const capped = await bed.call('GET', `${versions}?per_page=1000`, { token: world.aliceRead });
    expect(((await json(capped)) as unknown[]).length).toBe(8);
    expect(capped.headers.get('link')).toBeNull();
    const beyond = await bed.call('GET', `${versions}?per_page=3&page=9`, { token: world.aliceRead });
    expect(await json(beyond)).toEqual([]);
  });

  it('gets one version; unknown or deleted ids are "Package version not found."', async () => {
    const id = world.v2.manifest.versionId;
    const response = await bed.call('GET', `${versions}/${id}`, { token: world.aliceRead });
    expect(await json(response)).toMatchObject({
      id,
      name: world.v2.manifest.digest,
      metadata: { container: { tags: ['v2'] } },
    });
    const noScope = await bed.call('GET', `${versions}/${id}`, { token: world.aliceNoScope });
    expect(await json(noScope)).toMatchObject({
      message: "You need at least read:packages scope to view a package's versions.",
    });
    const unknown = await bed.call('GET', `${versions}/999999`, { token: world.aliceRead });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ message: 'Package version not found.' });
    expect((await bed.call('GET', `${versions}/abc`, { token: world.aliceRead })).status).toBe(404);
  });

  it('deletes a version: it leaves the registry view with its tags and shows under state=deleted', async () => {
    const id = world.v2.manifest.versionId;
    const readOnly = await bed.call('DELETE', `${versions}/${id}`, { token: world.aliceRead });
    expect(readOnly.status).toBe(403);
    expect(await json(readOnly)).toMatchObject({
      message: 'You need at least delete:packages and read:packages scopes to delete a package version.',
    });
    const hidden = await bed.call('DELETE', `${versions}/${id}`, { token: world.bob });
    expect(hidden.status).toBe(404);
    expect(await json(hidden)).toMatchObject({ message: 'Package not found.' });

    await bed.clock.set(START + 5000);
    expect((await bed.call('DELETE', `${versions}/${id}`, { token: world.alice })).status).toBe(204);
    const repository = world.v2.repository;
    expect(bed.state.resolveManifest(repository, 'v2')).toBeUndefined();
    expect(bed.state.resolveManifest(repository, world.v2.manifest.digest)).toBeUndefined();
    expect((await bed.call('GET', `${versions}/${id}`, { token: world.alice })).status).toBe(404);
    expect((await bed.call('DELETE', `${versions}/${id}`, { token: world.alice })).status).toBe(404);

    const active = (await json(await bed.call('GET', versions, { token: world.alice }))) as { id: number }[];
    expect(active.map((version) => version.id)).not.toContain(id);
    const deletedNeedsScope = await bed.call('GET', `${versions}?state=deleted`, { token: world.aliceRead });
    expect(await json(deletedNeedsScope)).toMatchObject({
      message:
        "You need at least delete:packages and read:packages scopes to get a package's deleted versions.",
    });
    const deleted = (await json(
      await bed.call('GET', `${versions}?state=deleted`, { token: world.alice }),
    )) as Record<string, unknown>[];
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({
      id,
      deleted_at: '2026-01-01T00:00:05Z',
      metadata: { container: { tags: ['v2'] } },
    });
    expect(deleted[0]).not.toHaveProperty('html_url');
    const invalid = await bed.call('GET', `${versions}?state=gone`, { token: world.alice });
    expect(invalid.status).toBe(422);
    expect(await json(invalid)).toMatchObject({ message: 'The state parameter is invalid.' });
    const pkg = (await json(
      await bed.call('GET', '/orgs/octo/packages/container/team%2Fapp', { token: world.alice }),
    )) as {
      version_count: number;
    };
    expect(pkg.version_count).toBe(2);
  });

  it('refuses to delete the last version and the last tagged version', async () => {
    // bobs has two tagged versions; untag one by deleting it, then the other is the last.
    const path = '/users/bob/packages/container/bobs/versions';
    const listed = (await json(await bed.call('GET', path, { token: world.bob }))) as { id: number }[];
    const [newest, oldest] = listed;
    expect((await bed.call('DELETE', `${path}/${newest?.id}`, { token: world.bob })).status).toBe(204);
    const last = await bed.call('DELETE', `${path}/${oldest?.id}`, { token: world.bob });
    expect(last.status).toBe(400);
    expect(await json(last)).toEqual({
      message: 'You cannot delete the last version of a package. You must delete the package instead.',
      documentation_url: 'https://docs.github.com/rest/packages/packages',
      status: '400',
    });
    // An untagged version beside a single tagged one: the tagged one is protected.
    bed.push('bob/bobs');
    const tagged = await bed.call('DELETE', `${path}/${oldest?.id}`, { token: world.bob });
    expect(tagged.status).toBe(400);
    expect(await json(tagged)).toMatchObject({
      message: 'You cannot delete the last tagged version of a package. You must delete the package instead.',
    });
  });

  it('refuses to delete a public version downloaded more than 5,000 times; admins only', async () => {
    const path = '/orgs/octo/packages/container/tool/versions';
    const notAdmin = await bed.call('DELETE', `${path}/${world.tool.manifest.versionId}`, {
      token: world.bob,
    });
    expect(notAdmin.status).toBe(403);
    bed.push('octo/tool', 'third');
    world.tool.manifest.downloadCount = 5001;
    const popular = await bed.call('DELETE', `${path}/${world.tool.manifest.versionId}`, {
      token: world.alice,
    });
    expect(popular.status).toBe(400);
    expect(await json(popular)).toMatchObject({
      message:
        'Publicly visible package versions with more than 5000 downloads cannot be deleted. Contact GitHub support for further assistance.',
    });
    world.tool.manifest.downloadCount = 5000;
    expect(
      (await bed.call('DELETE', `${path}/${world.tool.manifest.versionId}`, { token: world.alice })).status,
    ).toBe(204);
  });

  it('restores a version within 30 days (tags come back), not after', async () => {
    const v2 = world.v2.manifest.versionId;
    const v1 = world.v1.manifest.versionId;
    expect((await bed.call('DELETE', `${versions}/${v2}`, { token: world.alice })).status).toBe(204);
    expect((await bed.call('DELETE', `${versions}/${v1}`, { token: world.alice })).status).toBe(204);
    const noWrite = await bed.call('POST', `${versions}/${v2}/restore`, { token: world.aliceRead });
    expect(noWrite.status).toBe(403);
    expect(await json(noWrite)).toMatchObject({
      message: 'You need at least write:packages and read:packages scopes to restore a package version.',
    });
    await bed.clock.advance(29 * DAY);
    expect((await bed.call('POST', `${versions}/${v2}/restore`, { token: world.alice })).status).toBe(204);
    expect(bed.state.resolveManifest(world.v2.repository, 'v2')?.versionId).toBe(v2);
    const active = await bed.call('POST', `${versions}/${v2}/restore`, { token: world.alice });
    expect(active.status).toBe(400);
    await bed.clock.advance(2 * DAY);
    const late = await bed.call('POST', `${versions}/${v1}/restore`, { token: world.alice });
    expect(late.status).toBe(404);
    expect(await json(late)).toMatchObject({ message: 'Package version not found.' });
    expect((await bed.call('POST', `${versions}/424242/restore`, { token: world.alice })).status).toBe(404);
  });
});

describe('GitHub Packages API: limits, versions and routing', () => {
  it('reports the primary budget in x-ratelimit-* headers and answers 403 once it is spent', async () => {
    const bed = createApiTestBed({ apiRateLimit: { limit: 3 } });
    const world = seed(bed);
    const path = '/orgs/octo/packages/container/tool';
    const first = await bed.call('GET', path, { token: world.aliceRead });
    expect(first.headers.get('x-ratelimit-limit')).toBe('3');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('2');
    expect(first.headers.get('x-ratelimit-used')).toBe('1');
    expect(first.headers.get('x-ratelimit-resource')).toBe('core');
    const reset = Math.ceil((START + 1000 + 3600_000) / 1000);
    expect(first.headers.get('x-ratelimit-reset')).toBe(String(reset));
    // Another token has its own budget; /rate_limit does not count.
    expect((await bed.call('GET', path, { token: world.alice })).headers.get('x-ratelimit-remaining')).toBe(
      '2',
    );
    const rate = await bed.call('GET', '/rate_limit', { token: world.aliceRead });
    expect(await json(rate)).toMatchObject({ rate: { limit: 3, used: 1, remaining: 2, reset } });
    await bed.call('GET', path, { token: world.aliceRead });
    await bed.call('GET', path, { token: world.aliceRead });
    const spent = await bed.call('GET', path, { token: world.aliceRead });
    expect(spent.status).toBe(403);
    expect(spent.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await json(spent)).toMatchObject({
      message: `API rate limit exceeded for user ID ${bed.state.getOwner('alice')?.id}.`,
      documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
    });
    await bed.clock.advance(3600_000);
    const renewed = await bed.call('GET', path, { token: world.aliceRead });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.get('x-ratelimit-remaining')).toBe('2');
  });

  it('gives unauthenticated requests a budget of 60 per hour', async () => {
    const bed = createApiTestBed();
    seed(bed);
    const response = await bed.call('GET', '/users/octo');
    expect(response.headers.get('x-ratelimit-limit')).toBe('60');
    for (let i = 0; i < 59; i++) await bed.call('GET', '/users/octo');
    const spent = await bed.call('GET', '/users/octo');
    expect(spent.status).toBe(403);
    expect(((await json(spent)) as { message: string }).message).toMatch(
      /^API rate limit exceeded for 127\.0\.0\.1\./,
    );
  });

  it('enforces the secondary limit: DELETE costs 5 points, GET 1, per rolling minute, with retry-after', async () => {
    const bed = createApiTestBed({ apiWritePointsPerMinute: 12 });
    const world = seed(bed);
    for (let i = 0; i < 3; i++) bed.push('octo/team/app', `more-${i}`);
    const versions = '/orgs/octo/packages/container/team%2Fapp/versions';
    expect(
      (await bed.call('DELETE', `${versions}/${world.v1.manifest.versionId}`, { token: world.alice })).status,
    ).toBe(204);
    await bed.clock.advance(10_000);
    expect(
      (await bed.call('DELETE', `${versions}/${world.v2.manifest.versionId}`, { token: world.alice })).status,
    ).toBe(204);
    expect((await bed.call('GET', versions, { token: world.alice })).status).toBe(200); // 11 points
    const third = await bed.call('DELETE', `${versions}/${world.v3.manifest.versionId}`, {
      token: world.alice,
    });
    expect(third.status).toBe(403);
    // The first DELETE leaves the window 50 s from now.
    expect(third.headers.get('retry-after')).toBe('50');
    const body = (await json(third)) as { message: string; documentation_url: string };
    expect(body.message).toMatch(
      /^You have exceeded a secondary rate limit\. Please wait a few minutes before you try again\. If you reach out to GitHub Support for help, please include the request ID [0-9A-F]+\.$/,
    );
    expect(body.message).toContain(third.headers.get('x-github-request-id') ?? 'missing');
    expect(body.documentation_url).toContain('secondary-rate-limits');
    await bed.clock.advance(50_000);
    expect(
      (await bed.call('DELETE', `${versions}/${world.v3.manifest.versionId}`, { token: world.alice })).status,
    ).toBe(204);
  });

  it('accepts X-GitHub-Api-Version 2022-11-28 and 2026-03-10 and refuses others with 400', async () => {
    const bed = createApiTestBed();
    seed(bed);
    const none = await bed.call('GET', '/users/octo');
    expect(none.headers.get('x-github-api-version-selected')).toBe('2022-11-28');
    for (const version of ['2022-11-28', '2026-03-10']) {
      const response = await bed.call('GET', '/users/octo', { headers: { 'x-github-api-version': version } });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-github-api-version-selected')).toBe(version);
    }
    const old = await bed.call('GET', '/users/octo', { headers: { 'x-github-api-version': 'v3' } });
    expect(old.status).toBe(400);
    expect(await json(old)).toEqual({
      message:
        'The version you specified in the "X-GitHub-API-Version" request header, "v3", is not a supported version. The following versions are currently supported: "2026-03-10" (most recent), "2022-11-28".',
      documentation_url: 'https://docs.github.com/rest/overview/api-versions',
      status: '400',
    });
  });

  it('serves under an API base URL with a path, and answers unknown API paths with 404', async () => {
    const bed = createApiTestBed({
      apiUrl: 'http://127.0.0.1:5000/api',
      registryUrl: 'http://127.0.0.1:5000',
    });
    const world = seed(bed);
    const response = await bed.call('GET', '/orgs/octo/packages/container/tool', { token: world.aliceRead });
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({
      url: 'http://127.0.0.1:5000/api/orgs/octo/packages/container/tool',
    });
    const unknown = await bed.call('GET', '/repos/octo/x', { token: world.aliceRead });
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ message: 'Not Found' });
    await expect(bed.call('GET', 'http://127.0.0.1:5000/v2/')).rejects.toThrow(/no handler answered/);
    expect(bed.operations).toContain('api.packages.get');
  });
});
