import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary, installHint, integrationAvailability } from './binaries.js';

describe('installHint', () => {
  it('names the Debian packages once each, in order', () => {
    expect(installHint(['docker-registry', 'skopeo', 'docker-registry'])).toBe(
      'apt-get update && apt-get install -y docker-registry skopeo',
    );
    expect(installHint(['some-tool'])).toBe('apt-get update && apt-get install -y some-tool');
  });
});

describe('findBinary and integrationAvailability', () => {
  let directory: string;
  let tool: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ghcr-test-support-bin-'));
    tool = join(directory, 'fake-tool');
    await writeFile(tool, '#!/bin/sh\nexit 0\n');
    await chmod(tool, 0o755);
    await writeFile(join(directory, 'not-executable'), 'text');
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('finds an executable in a PATH directory or by path, and nothing that is not executable', () => {
    expect(findBinary('fake-tool', `/nonexistent:${directory}`)).toBe(tool);
    expect(findBinary(tool, '')).toBe(tool);
    expect(findBinary('not-executable', directory)).toBeUndefined();
    expect(findBinary('fake-tool', '/nonexistent')).toBeUndefined();
  });

  it('is available when every program is found', () => {
    expect(integrationAvailability(['fake-tool'], { PATH: directory, CI: 'true' })).toEqual({
      available: true,
      missing: [],
      mustFail: false,
      reason: '',
    });
  });

  it('names what is missing with the install command, and must fail only under CI=true', () => {
    const local = integrationAvailability(['fake-tool', 'docker-registry', 'skopeo'], { PATH: directory });
    expect(local).toMatchObject({
      available: false,
      missing: ['docker-registry', 'skopeo'],
      mustFail: false,
    });
    expect(local.reason).toContain('docker-registry and skopeo not found on PATH');
    expect(local.reason).toContain('apt-get install -y docker-registry skopeo');
    expect(integrationAvailability(['skopeo'], { PATH: directory, CI: 'true' }).mustFail).toBe(true);
    expect(integrationAvailability(['skopeo'], { PATH: directory, CI: '1' }).mustFail).toBe(false);
  });
});
