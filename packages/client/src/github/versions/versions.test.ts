import { staticCredentials } from '@ghcr/auth';
import {
  AuthenticationError,
  ConfigError,
  GhcrErrorCode,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
} from '@ghcr/oci-types';
import { pushImage as seedImage } from '@ghcr/simulation';
import { describe, expect, it } from 'vitest';
import { createGhcrClient } from '../../client.js';
import { versionsBed, versionsFor } from '../../testing/versions-bed.js';
import { packageVersionTags, type Versions } from './versions.js';
import { resolveVersionsOptions } from './versions-options.js';

const API = 'https://api.github.com';
const isInvalidInput = (value: unknown): boolean => InvalidInputError.isInstance(value);

function apiEntries(bed: ReturnType<typeof versionsBed>, operation: string) {
  return bed.sim.log.byOperation(operation);
}

describe('owner type detection', () => {
  it('detects users and organizations with GET /users/{name}, once per owner', async () => {
    const bed = versionsBed();
    bed.sim.createOrganization('acme', { admins: ['octo'] });
    await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    await seedImage(bed.sim, 'acme/app', { tag: 'v1' });
    expect(await bed.versions.ownerType('octo')).toBe('user');
    expect(await bed.versions.ownerType('acme')).toBe('org');
    // Cached: neither owner is looked up again, however many calls follow.
    await bed.versions.getPackage('octo/app');
    await bed.versions.getPackage('acme/app');
    expect(await bed.versions.ownerType('ACME')).toBe('org');
    const lookups = apiEntries(bed, 'api.users.get').map((entry) => entry.path);
    expect(lookups).toEqual(['/users/octo', '/users/acme']);
    const gets = apiEntries(bed, 'api.packages.get').map((entry) => entry.path);
    expect(gets).toEqual(['/users/octo/packages/container/app', '/orgs/acme/packages/container/app']);
  });

  it('shares one lookup between concurrent calls', async () => {
    const bed = versionsBed();
    await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    await Promise.all([
      bed.versions.getPackage('octo/app'),
      bed.versions.list('octo/app'),
      bed.versions.ownerType('octo'),
    ]);
    expect(apiEntries(bed, 'api.users.get')).toHaveLength(1);
  });

  it('uses a given ownerType without a lookup, also per call and for the authenticated user', async () => {
    const bed = versionsBed({ versions: { ownerType: 'authenticated-user' } });
    await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    const pkg = await bed.versions.getPackage('octo/app');
    expect(pkg.name).toBe('app');
    await bed.versions.getPackage('octo/app', { ownerType: 'user' });
    expect(apiEntries(bed, 'api.users.get')).toHaveLength(0);
    expect(apiEntries(bed, 'api.packages.get').map((entry) => entry.path)).toEqual([
      '/user/packages/container/app',
      '/users/octo/packages/container/app',
    ]);
  });

  it('explains an owner GitHub does not know', async () => {
    const bed = versionsBed();
    const error = await bed.versions.getPackage('nobody/app').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/no GitHub user or organization named "nobody"/);
  });
});

describe('packages', () => {
  it('lists container packages with a visibility filter, gets, deletes and restores a package', async () => {
    const bed = versionsBed();
    bed.sim.createOrganization('acme', { admins: ['octo'] });
    await seedImage(bed.sim, 'acme/app', { tag: 'v1' });
    await seedImage(bed.sim, 'acme/team/app', { tag: 'v1' });
    await seedImage(bed.sim, 'acme/site', { tag: 'v1' });
    bed.sim.setVisibility('acme', 'site', 'public');

    const all = await bed.versions.listPackages('acme');
    expect(all.map((pkg) => pkg.name)).toEqual(['app', 'team/app', 'site']);
    const publicOnly = await bed.versions.listPackages('acme', { visibility: 'public' });
    expect(publicOnly.map((pkg) => pkg.name)).toEqual(['site']);
    const listed = apiEntries(bed, 'api.packages.list').map((entry) => new URL(entry.url).search);
    expect(listed).toEqual([
      '?package_type=container&per_page=100',
      '?package_type=container&per_page=100&visibility=public',
    ]);
    const iterated: string[] = [];
    for await (const pkg of bed.versions.iteratePackages('acme')) iterated.push(pkg.name);
    expect(iterated).toEqual(['app', 'team/app', 'site']);

    const team = await bed.versions.getPackage('acme/team/app');
    expect(team).toMatchObject({ name: 'team/app', package_type: 'container', version_count: 1 });
    await bed.versions.deletePackage('acme/team/app');
    const gone = await bed.versions.getPackage('acme/team/app').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(gone)).toBe(true);
    await bed.versions.restorePackage('acme/team/app');
    expect((await bed.versions.getPackage('acme/team/app')).id).toBe(team.id);
    // The manifest pulls again after the restore.
    expect((await bed.client.manifests.head('acme/team/app', 'v1'))?.digest).toBeDefined();
  });

  it('explains a restore refused because the name was reused, and a restore with nothing to restore', async () => {
    const bed = versionsBed();
    await seedImage(bed.sim, 'octo/app', { seed: 'old', tag: 'v1' });
    await bed.versions.deletePackage('octo/app');
    await seedImage(bed.sim, 'octo/app', { seed: 'new', tag: 'v1' });
    const reused = await bed.versions.restorePackage('octo/app').catch((caught: unknown) => caught);
    expect(reused).toMatchObject({ name: 'ResourceConflictError', code: GhcrErrorCode.CONFLICT });
    expect((reused as Error).message).toMatch(
      /status 409.*a package with the same name was created after it was deleted.*Delete \(or rename\) the new package first/,
    );
    const nothing = await bed.versions.restorePackage('octo/other').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(nothing)).toBe(true);
    expect((nothing as Error).message).toMatch(/no deleted package of that name can be restored/);
  });

  it('URL-encodes a package name with "/" (team/app → team%2Fapp) on every route', async () => {
    const bed = versionsBed();
    bed.sim.createOrganization('acme', { admins: ['octo'] });
    const one = await seedImage(bed.sim, 'acme/team/app', { tag: 'v1', seed: 'one' });
    await seedImage(bed.sim, 'acme/team/app', { tag: 'v2', seed: 'two' });
    await bed.versions.getPackage('acme/team/app');
    await bed.versions.list('acme/team/app');
    await bed.versions.get('acme/team/app', one.record.versionId);
    await bed.versions.delete('acme/team/app', one.record.versionId);
    await bed.versions.restore('acme/team/app', one.record.versionId);
    const apiPaths = bed.sim.log
      .filter((entry) => entry.host === 'api.github.com' && entry.path.includes('/packages/'))
      .map((entry) => `${entry.method} ${new URL(entry.url).pathname}`);
    const base = '/orgs/acme/packages/container/team%2Fapp';
    expect(apiPaths).toEqual([
      `GET ${base}`,
      `GET ${base}/versions`,
      `GET ${base}/versions/${one.record.versionId}`,
      `DELETE ${base}/versions/${one.record.versionId}`,
      `POST ${base}/versions/${one.record.versionId}/restore`,
    ]);
    expect(bed.sim.log.entries.every((entry) => entry.status < 400)).toBe(true);
  });
});

describe('versions', () => {
  it('lists every page of more than 100 versions with per_page=100 and Link, newest first', async () => {
    const bed = versionsBed();
    const pushed: number[] = [];
    for (let index = 0; index < 205; index++) {
      const image = await seedImage(bed.sim, 'octo/many', { seed: `v${index}`, tag: `v${index}` });
      pushed.push(image.record.versionId);
    }
    bed.sim.log.clear();
    const all = await bed.versions.list('octo/many');
    expect(all).toHaveLength(205);
    expect(all.map((version) => version.id)).toEqual([...pushed].reverse());
    const newest = all[0];
    expect(newest && packageVersionTags(newest)).toEqual(['v204']);
    const pages = apiEntries(bed, 'api.versions.list').map((entry) => new URL(entry.url).searchParams);
    expect(pages.map((query) => [query.get('page'), query.get('per_page'), query.get('state')])).toEqual([
      [null, '100', 'active'],
      ['2', '100', 'active'],
      ['3', '100', 'active'],
    ]);
    expect(apiEntries(bed, 'api.versions.list').every((entry) => entry.status === 200)).toBe(true);

    // The iterator asks for a page only when it is needed.
    bed.sim.log.clear();
    const first: number[] = [];
    for await (const version of bed.versions.iterate('octo/many')) {
      first.push(version.id);
      if (first.length === 150) break;
    }
    expect(first).toEqual(all.slice(0, 150).map((version) => version.id));
    expect(apiEntries(bed, 'api.versions.list')).toHaveLength(2);

    // findByTag stops at the page holding the tag.
    bed.sim.log.clear();
    expect((await bed.versions.findByTag('octo/many', 'v150'))?.id).toBe(pushed[150]);
    expect(apiEntries(bed, 'api.versions.list')).toHaveLength(1);
    expect((await bed.versions.findByTag('octo/many', 'v3'))?.id).toBe(pushed[3]);
    expect(await bed.versions.findByTag('octo/many', 'nope')).toBeUndefined();
  });

  it('gets, deletes, lists deleted, restores (tags come back) and finds by digest', async () => {
    const bed = versionsBed();
    const keep = await seedImage(bed.sim, 'octo/app', { seed: 'keep', tag: 'stable' });
    const image = await seedImage(bed.sim, 'octo/app', { seed: 'image', tag: 'v1' });

    const version = await bed.versions.get('octo/app', image.record.versionId);
    expect(version.name).toBe(image.digest);
    expect(packageVersionTags(version)).toEqual(['v1']);
    expect((await bed.versions.findByDigest('octo/app', image.digest))?.id).toBe(image.record.versionId);
    expect((await bed.versions.findByTag('octo/app', 'stable'))?.name).toBe(keep.digest);

    expect(await bed.versions.delete('octo/app', image.record.versionId)).toEqual({
      versionId: image.record.versionId,
      outcome: 'deleted',
    });
    expect((await bed.versions.list('octo/app')).map((entry) => entry.name)).toEqual([keep.digest]);
    const deleted = await bed.versions.list('octo/app', { state: 'deleted' });
    expect(deleted.map((entry) => entry.name)).toEqual([image.digest]);
    expect(deleted[0]?.deleted_at).toBeDefined();
    expect(await bed.versions.findByDigest('octo/app', image.digest)).toBeUndefined();
    expect((await bed.versions.findByDigest('octo/app', image.digest, { state: 'deleted' }))?.id).toBe(
      image.record.versionId,
    );
    const missing = await bed.versions
      .get('octo/app', image.record.versionId)
      .catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(missing)).toBe(true);
    expect((missing as Error).message).toMatch(/has no such version/);

    await bed.versions.restore('octo/app', image.record.versionId);
    expect((await bed.client.manifests.head('octo/app', 'v1'))?.digest).toBe(image.digest);
    const again = await bed.versions
      .restore('octo/app', image.record.versionId)
      .catch((caught: unknown) => caught);
    expect(again).toMatchObject({ code: GhcrErrorCode.CONFLICT });
    expect((again as Error).message).toMatch(/not deleted, so there is nothing to restore/);
  });

  it('counts an already deleted version as done with ignoreMissing (idempotent delete)', async () => {
    const bed = versionsBed();
    await seedImage(bed.sim, 'octo/app', { seed: 'keep', tag: 'stable' });
    const image = await seedImage(bed.sim, 'octo/app', { seed: 'image' });
    await bed.versions.delete('octo/app', image.record.versionId);
    expect(await bed.versions.delete('octo/app', image.record.versionId, { ignoreMissing: true })).toEqual({
      versionId: image.record.versionId,
      outcome: 'already-deleted',
    });
    const error = await bed.versions
      .delete('octo/app', image.record.versionId)
      .catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/deleted already/);
    // A missing package is not "done": it may be a token that cannot see it.
    const elsewhere = await bed.versions
      .delete('octo/other', 5, { ignoreMissing: true })
      .catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(elsewhere)).toBe(true);
  });

  it('validates inputs before sending anything', async () => {
    const bed = versionsBed();
    await expect(bed.versions.get('octo/app', 0)).rejects.toSatisfy(isInvalidInput);
    await expect(bed.versions.get('app', 1)).rejects.toSatisfy(isInvalidInput);
    await expect(bed.versions.findByDigest('octo/app', 'sha256:nope')).rejects.toSatisfy(isInvalidInput);
    await expect(bed.versions.listPackages('-bad')).rejects.toSatisfy(isInvalidInput);
    expect(bed.sim.log.entries).toHaveLength(0);
  });
});

describe('API version, base URL and response shapes', () => {
  it('sends X-GitHub-Api-Version 2022-11-28 by default, or the configured version', async () => {
    const bed = versionsBed();
    await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    await bed.versions.list('octo/app');
    const sent = bed.sim.log
      .filter((entry) => entry.host === 'api.github.com')
      .map((entry) => entry.requestHeaders['x-github-api-version']);
    expect(sent).toEqual(['2022-11-28', '2022-11-28']);
    expect(bed.sim.log.entries.every((entry) => entry.hadAuthorization)).toBe(true);

    const pinned = versionsFor(bed, { apiVersion: '2026-03-10' });
    bed.sim.log.clear();
    await pinned.versions.getPackage('octo/app');
    expect(bed.sim.log.entries.map((entry) => entry.requestHeaders['x-github-api-version'])).toEqual([
      '2026-03-10',
      '2026-03-10',
    ]);

    const unsupported = versionsFor(bed, { apiVersion: '2020-01-01', ownerType: 'user' });
    const error = await unsupported.versions.getPackage('octo/app').catch((caught: unknown) => caught);
    expect(ConfigError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ field: 'apiVersion' });
    expect((error as Error).message).toMatch(/"2020-01-01" sent as X-GitHub-Api-Version/);
  });

  it('takes the base URL from the options, else GITHUB_API_URL, else api.github.com', () => {
    expect(resolveVersionsOptions({}, {}).apiUrl).toBe(API);
    expect(resolveVersionsOptions({}, { GITHUB_API_URL: 'https://ghe.example/api/v3/' }).apiUrl).toBe(
      'https://ghe.example/api/v3',
    );
    expect(
      resolveVersionsOptions({ apiUrl: 'http://127.0.0.1:5000/api' }, { GITHUB_API_URL: 'https://x' }).apiUrl,
    ).toBe('http://127.0.0.1:5000/api');
    expect(() => resolveVersionsOptions({}, { GITHUB_API_URL: 'not a url' })).toThrow(
      /"apiUrl" \(taken from the GITHUB_API_URL environment variable\)/,
    );
    expect(() => resolveVersionsOptions({ apiVersion: 'latest' }, {})).toThrow(ConfigError);
    expect(() => resolveVersionsOptions({ apiURL: 'https://x' } as never, {})).toThrow(
      /unknown versions option "apiURL" \(did you mean "apiUrl"\?\)/,
    );
  });

  it('talks to an API under a path (GitHub Enterprise Server style)', async () => {
    const bed = versionsBed({ simulation: { apiUrl: 'https://ghe.example/api/v3' } });
    await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    expect(await bed.versions.list('octo/app')).toHaveLength(1);
    expect(bed.sim.log.entries.map((entry) => entry.path)).toEqual([
      '/api/v3/users/octo',
      '/api/v3/users/octo/packages/container/app/versions',
    ]);
  });

  it('says clearly when GitHub changes the shape of an object', async () => {
    const bed = versionsBed({ versions: { ownerType: 'user' } });
    const image = await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    bed.sim.faults.add({
      operation: 'api.versions.get',
      count: 1,
      action: {
        type: 'status',
        status: 200,
        body: JSON.stringify({
          id: image.record.versionId,
          digest: image.digest,
          url: 'x',
          package_html_url: 'y',
        }),
      },
    });
    const error = await bed.versions
      .get('octo/app', image.record.versionId)
      .catch((caught: unknown) => caught);
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ code: GhcrErrorCode.UNEXPECTED_RESPONSE });
    expect((error as Error).message).toMatch(
      /is not a package version object as @ghcr\/client knows it \(at "name": .*\)\. GitHub may have changed the object \(X-GitHub-Api-Version 2022-11-28 was sent\)/,
    );
    bed.sim.faults.add({
      operation: 'api.versions.list',
      count: 1,
      action: { type: 'status', status: 200, body: JSON.stringify({ versions: [] }) },
    });
    await expect(bed.versions.list('octo/app')).rejects.toThrow(
      /not a JSON array of package version objects/,
    );
  });
});

describe('errors a person can act on', () => {
  it('404 on a private package: it may exist, the token needs read:packages and a role on the package', async () => {
    const bed = versionsBed();
    bed.sim.createOrganization('acme', { admins: ['octo'] });
    await seedImage(bed.sim, 'acme/secret', { tag: 'v1' });
    const outsider = bed.sim.createToken({ user: 'mallory', scopes: ['read:packages'] });
    const other = clientWithToken(bed, 'mallory', outsider);
    const error = await other.getPackage('acme/secret').catch((caught: unknown) => caught);
    expect(NotFoundError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/status 404: not found: Package not found\./);
    expect(message).toMatch(/container package "secret" of organization acme/);
    expect(message).toMatch(/private \(or internal\) and this token cannot see it/);
    expect(message).toMatch(/needs read:packages, and your account needs a role on the package/);
    expect(message).not.toContain(outsider);
  });

  it('403: names the missing scope (read, delete, write:packages)', async () => {
    const bed = versionsBed();
    bed.sim.createOrganization('acme', { admins: ['octo'] });
    await seedImage(bed.sim, 'acme/app', { seed: 'a', tag: 'v1' });
    const image = await seedImage(bed.sim, 'acme/app', { seed: 'b', tag: 'v2' });
    const cases = [
      { scopes: [], run: (v: typeof bed.versions) => v.list('acme/app'), missing: 'read:packages' },
      {
        scopes: ['read:packages'],
        run: (v: typeof bed.versions) => v.delete('acme/app', image.record.versionId),
        missing: 'read:packages and delete:packages',
      },
      {
        scopes: ['read:packages', 'delete:packages'],
        run: (v: typeof bed.versions) => v.restore('acme/app', image.record.versionId),
        missing: 'read:packages and write:packages',
      },
    ] as const;
    for (const { scopes, run, missing } of cases) {
      const token = bed.sim.createToken({ user: 'octo', scopes: [...scopes] });
      const other = clientWithToken(bed, 'octo', token);
      const error = await run(other).catch((caught: unknown) => caught);
      expect(error, missing).toMatchObject({ name: 'AuthorizationError', code: GhcrErrorCode.FORBIDDEN });
      const message = (error as Error).message;
      expect(message).toMatch(/status 403: forbidden: You need at least/);
      expect(message).toContain(`The token is missing a scope: it needs ${missing}`);
      expect(error).toMatchObject({ scope: missing.replace(' and ', ' ') });
    }
  });

  it('403: an org container needs the Admin role on the package to delete', async () => {
    const bed = versionsBed();
    bed.sim.createOrganization('acme', { admins: ['octo'] });
    await seedImage(bed.sim, 'acme/site', { seed: 'a', tag: 'v1' });
    const image = await seedImage(bed.sim, 'acme/site', { seed: 'b', tag: 'v2' });
    bed.sim.setVisibility('acme', 'site', 'public');
    const token = bed.sim.createToken({ user: 'member', scopes: ['read:packages', 'delete:packages'] });
    const member = clientWithToken(bed, 'member', token);
    const error = await member.delete('acme/site', image.record.versionId).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'AuthorizationError', scope: 'admin on the package' });
    expect((error as Error).message).toMatch(
      /You must have admin permissions on this package.*The token's scopes are enough, but the account lacks the Admin role on the package \(package settings → "Manage access"/,
    );
  });

  it('the last version: GHCR_LAST_VERSION with GitHub\'s message and "delete the package instead"', async () => {
    const bed = versionsBed();
    const only = await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    const error = await bed.versions
      .delete('octo/app', only.record.versionId)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ResourceConflictError', code: GhcrErrorCode.LAST_VERSION });
    const message = (error as Error).message;
    expect(message).toContain(
      'You cannot delete the last version of a package. You must delete the package instead',
    );
    expect(message).toMatch(/Delete the whole package instead \(versions\.deletePackage\)/);
    expect((error as { http?: { status: number } }).http?.status).toBe(400);
    // Nothing was deleted.
    expect(await bed.versions.list('octo/app')).toHaveLength(1);
  });

  it('the 5,000-download rule: GHCR_DOWNLOAD_LIMIT, contact GitHub support', async () => {
    const bed = versionsBed();
    await seedImage(bed.sim, 'octo/site', { seed: 'a', tag: 'v1' });
    const popular = await seedImage(bed.sim, 'octo/site', { seed: 'b', tag: 'v2' });
    bed.sim.setVisibility('octo', 'site', 'public');
    popular.record.downloadCount = 5001;
    const error = await bed.versions
      .delete('octo/site', popular.record.versionId)
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ResourceConflictError', code: GhcrErrorCode.DOWNLOAD_LIMIT });
    expect((error as Error).message).toMatch(/more than 5000 downloads cannot be deleted/);
    expect((error as Error).message).toMatch(/Contact GitHub support \(https:\/\/support\.github\.com\)/);
    const whole = await bed.versions.deletePackage('octo/site').catch((caught: unknown) => caught);
    expect(whole).toMatchObject({ code: GhcrErrorCode.DOWNLOAD_LIMIT });
  });

  it('401: no token, or a token GitHub refuses', async () => {
    const bed = versionsBed({ versions: { ownerType: 'user' } });
    await seedImage(bed.sim, 'octo/app', { tag: 'v1' });
    const anonymous = createGhcrClient({ dispatcher: bed.sim.dispatcher(), clock: bed.clock });
    const none = versionsFor({ sim: bed.sim, client: anonymous }, { ownerType: 'user' });
    const error = await none.versions.list('octo/app').catch((caught: unknown) => caught);
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/no GitHub token was sent.*with read:packages/);

    const bogus = clientWithToken(bed, 'octo', 'ghp_notarealtoken000000000000000000000', {
      ownerType: 'user',
    });
    const refused = await bogus.list('octo/app').catch((caught: unknown) => caught);
    expect(AuthenticationError.isInstance(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/Bad credentials.*GitHub refused the token/);
    expect((refused as Error).message).not.toContain('ghp_notarealtoken');
  });
});

function clientWithToken(
  bed: ReturnType<typeof versionsBed>,
  user: string,
  token: string,
  options: Parameters<typeof versionsFor>[1] = {},
): Versions {
  const client = createGhcrClient({
    dispatcher: bed.sim.dispatcher(),
    credentials: staticCredentials({ username: user, password: token }),
    clock: bed.clock,
  });
  return versionsFor({ sim: bed.sim, client }, options).versions;
}
