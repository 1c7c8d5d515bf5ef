import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { integrationPlan } from '../vitest.js';
import { namespaceAvailability } from './network-namespace.js';

// namespaceAvailability against stand-in programs on a PATH of our own: no namespace is made here.
describe('namespaceAvailability', () => {
  const directories: string[] = [];
  afterEach(async () => {
    await Promise.all(
      directories.splice(0).map((directory) => rm(directory, { recursive: true, force: true })),
    );
  });

  async function pathWith(programs: Readonly<Record<string, string>>): Promise<string> {
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-namespace-'));
    directories.push(directory);
    for (const [name, script] of Object.entries(programs)) {
      await writeFile(join(directory, name), `#!/bin/sh\n${script}\n`);
      await chmod(join(directory, name), 0o755);
    }
    return directory;
  }

  it('names the missing programs and their Debian packages; skips, or fails under CI=true', async () => {
    const PATH = await pathWith({});
    const availability = namespaceAvailability({ PATH });
    expect(availability).toMatchObject({ available: false, missing: ['unshare', 'ip', 'mount', 'openssl'] });
    expect(availability.reason).toContain('apt-get install -y util-linux iproute2 mount openssl');
    expect(integrationPlan(availability).kind).toBe('skip');
    expect(integrationPlan(namespaceAvailability({ PATH, CI: 'true' })).kind).toBe('fail');
  });

  it('says why when the sandbox refuses new namespaces', async () => {
    const PATH = await pathWith({
      unshare: 'echo "unshare: unshare failed: Operation not permitted" >&2; exit 1',
      ip: 'exit 0',
      mount: 'exit 0',
      openssl: 'exit 0',
    });
    const availability = namespaceAvailability({ PATH });
    expect(availability).toMatchObject({ available: false, mustFail: false, unshare: [] });
    expect(availability.reason).toMatch(
      /^cannot make a private mount and network namespace \(unshare --mount --net: unshare: unshare failed: Operation not permitted; unshare --map-root-user/,
    );
    expect(namespaceAvailability({ PATH, CI: 'true' }).mustFail).toBe(true);
  });

  it('falls back to a user namespace (--map-root-user) when only that is allowed', async () => {
    const PATH = await pathWith({
      unshare: '[ "$1" = "--map-root-user" ] || { echo "Operation not permitted" >&2; exit 1; }',
      ip: 'exit 0',
      mount: 'exit 0',
      openssl: 'exit 0',
    });
    const availability = namespaceAvailability({ PATH });
    expect(availability).toMatchObject({ available: true, reason: '' });
    expect(availability.unshare).toEqual([join(PATH, 'unshare'), '--map-root-user', '--mount', '--net']);
  });
});
