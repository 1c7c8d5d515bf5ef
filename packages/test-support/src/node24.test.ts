import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { node24Availability, node24CacheDirectory } from './node24.js';
import { integrationPlan } from './vitest.js';

describe('node24Availability', () => {
  it('skips with the install command locally and fails under CI=true when Node 24 is missing', () => {
    const env = { XDG_CACHE_HOME: '/nonexistent-cache' };
    const local = node24Availability(env);
    if (process.versions.node.startsWith('24.')) {
      expect(local.node).toBe(process.execPath);
      return;
    }
    expect(local.available).toBe(false);
    expect(integrationPlan(local)).toEqual({
      kind: 'skip',
      title: `skipped: ${local.reason}`,
      reason: `Node 24 not found; install it with: npm install --prefix ${join('/nonexistent-cache', 'ghcr', 'node24')} --no-save node@24 (or set GHCR_NODE24)`,
    });
    expect(integrationPlan(node24Availability({ ...env, CI: 'true' })).kind).toBe('fail');
  });

  it('names a GHCR_NODE24 that does not exist', () => {
    const availability = node24Availability({ GHCR_NODE24: '/nonexistent/node' });
    expect(availability.available).toBe(false);
    expect(availability.reason).toBe(
      'GHCR_NODE24=/nonexistent/node does not exist; point it at a Node 24 binary',
    );
  });

  it('takes GHCR_NODE24 when it exists, and the cache under XDG_CACHE_HOME', () => {
    expect(node24Availability({ GHCR_NODE24: process.execPath }).node).toBe(process.execPath);
    expect(node24CacheDirectory({ XDG_CACHE_HOME: '/c' })).toBe(join('/c', 'ghcr', 'node24'));
  });
});
