import { beforeEach, describe, expect, it } from 'vitest';
import { pushImage } from '../scenarios/push.js';
import { createTestBed, type TestBed } from '../testing/test-bed.js';

// tags/list paging over the repository's cached, sorted tag list.

const NAME = 'octocat/app';

interface Fixture {
  bed: TestBed;
  pat: string;
}

async function fixture(tags: readonly string[]): Promise<Fixture> {
  const bed = createTestBed({ profile: 'ghcr' });
  const pat = bed.sim.createToken({ user: 'octocat', scopes: ['read:packages', 'write:packages'] });
  for (const tag of tags) await pushImage(bed.sim, NAME, { tag, seed: 'same image' });
  return { bed, pat };
}

async function list(f: Fixture, query: string) {
  const response = await f.bed.call('GET', `/v2/${NAME}/tags/list${query}`, { pat: f.pat });
  expect(response.status).toBe(200);
  return { tags: response.json<{ tags: string[] }>().tags, link: response.header('link') };
}

function repository(f: Fixture) {
  const found = f.bed.sim.state.getRepository(NAME);
  if (found === undefined) throw new Error(`no repository ${NAME}`);
  return found;
}

describe('tags/list paging', () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture(['b', 'A', 'c', 'a1', 'D', 'e']);
  });

  it('starts after a `last` that is not itself a tag', async () => {
    expect((await list(f, '?last=a2')).tags).toEqual(['b', 'c', 'D', 'e']);
    expect((await list(f, '?n=2&last=B')).tags).toEqual(['b', 'c']);
    expect((await list(f, '?last=0')).tags).toEqual(['A', 'a1', 'b', 'c', 'D', 'e']);
    expect(await list(f, '?n=2&last=z')).toEqual({ tags: [], link: undefined });
  });

  it('gives no Link when the page ends exactly at the last tag, and one when a tag follows', async () => {
    expect(await list(f, '?n=2&last=c')).toEqual({ tags: ['D', 'e'], link: undefined });
    expect(await list(f, '?n=1&last=c')).toEqual({
      tags: ['D'],
      link: `</v2/${NAME}/tags/list?n=1&last=D>; rel="next"`,
    });
  });

  it('sees tags added and removed between pages', async () => {
    const first = await list(f, '?n=2');
    expect(first).toEqual({ tags: ['A', 'a1'], link: `</v2/${NAME}/tags/list?n=2&last=a1>; rel="next"` });
    // Between pages: a tag before `last` (not listed again), one after it, and one removed.
    await pushImage(f.bed.sim, NAME, { tag: '0-early', seed: 'same image' });
    await pushImage(f.bed.sim, NAME, { tag: 'bb', seed: 'same image' });
    expect(f.bed.sim.state.deleteTag(repository(f), 'c')).toBe(true);
    const second = await list(f, '?n=2&last=a1');
    expect(second).toEqual({ tags: ['b', 'bb'], link: `</v2/${NAME}/tags/list?n=2&last=bb>; rel="next"` });
    const third = await list(f, '?n=2&last=bb');
    expect(third).toEqual({ tags: ['D', 'e'], link: undefined });
    expect((await list(f, '')).tags).toEqual(['0-early', 'A', 'a1', 'b', 'bb', 'D', 'e']);
  });

  it('sees tags removed by deleting a version and brought back by restoring it', async () => {
    const other = await pushImage(f.bed.sim, NAME, { tag: 'other', seed: 'another image' });
    expect((await list(f, '?last=e')).tags).toEqual(['other']);
    const versionId = other.record.versionId;
    expect(f.bed.sim.state.deleteVersion(repository(f), versionId).ok).toBe(true);
    expect((await list(f, '?last=e')).tags).toEqual([]);
    expect(f.bed.sim.state.restoreVersion(repository(f), versionId).ok).toBe(true);
    expect((await list(f, '?last=e')).tags).toEqual(['other']);
  });

  it('answers n=0 with no tags and no Link', async () => {
    expect(await list(f, '?n=0')).toEqual({ tags: [], link: undefined });
    expect(await list(f, '?n=0&last=a1')).toEqual({ tags: [], link: undefined });
  });
});

describe('tags/list over many tags', () => {
  it('pages through 250 tags by their Link headers in order, each tag once', async () => {
    const names = Array.from({ length: 250 }, (_, index) => `t${String(index).padStart(3, '0')}`);
    const f = await fixture([]);
    // One image, many tags: the state directly, not 250 pushes.
    const image = await pushImage(f.bed.sim, NAME, { tag: 't000', seed: 'same image' });
    const record = repository(f);
    for (const name of names.slice(1).reverse()) record.tags.set(name, image.digest);
    const seen: string[] = [];
    let query: string | undefined = '?n=100';
    let pages = 0;
    while (query !== undefined) {
      const page = await list(f, query);
      seen.push(...page.tags);
      pages++;
      query = page.link?.replace(/^<\/v2\/[^?]+(\?[^>]*)>; rel="next"$/, '$1');
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
  });
});
