import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveToRead, archiveToWrite } from './archive-arguments.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-archive-args-'));
  await writeFile(join(directory, 'notes.txt'), 'not a tar');
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('archiveToWrite', () => {
  it('takes the format from the prefix, then --format, then the name', () => {
    expect(archiveToWrite('oci-archive:x.tar', undefined)).toEqual({
      path: resolve('x.tar'),
      format: 'oci-archive',
    });
    expect(archiveToWrite('x.tar', 'oci-archive')).toEqual({ path: resolve('x.tar'), format: 'oci-archive' });
    expect(archiveToWrite('app.oci.tar', undefined)?.format).toBe('oci-archive');
    expect(archiveToWrite('app-oci.tar', undefined)?.format).toBe('oci-archive');
    expect(archiveToWrite('app.tar', undefined)?.format).toBe('docker-archive');
    expect(archiveToWrite('./layout-dir', undefined)).toBeUndefined();
  });

  it('refuses a prefix that contradicts --format, and an unknown format', () => {
    expect(() => archiveToWrite('docker-archive:x.tar', 'oci-archive')).toThrow(
      /says docker-archive but --format/,
    );
    expect(() => archiveToWrite('x.tar', 'tarball')).toThrow(/--format must be/);
  });
});

describe('archiveToRead', () => {
  it('is undefined for a file that is no archive, and an error for a prefixed missing file', async () => {
    expect(await archiveToRead(join(directory, 'notes.txt'))).toBeUndefined();
    expect(await archiveToRead(`${join(directory, 'notes.txt')}:text/plain`)).toBeUndefined();
    await expect(archiveToRead(`docker-archive:${join(directory, 'missing.tar')}`)).rejects.toMatchObject({
      code: 'GHCR_USAGE',
    });
  });

  it('splits a prefixed FILE:IMAGE at the file', async () => {
    const path = join(directory, 'a:b.tar');
    await writeFile(path, '');
    expect(await archiveToRead(`docker-archive:${path}:app:1.0`)).toEqual({
      path,
      format: 'docker-archive',
      image: 'app:1.0',
    });
    expect(await archiveToRead(`oci-archive:${path}`)).toEqual({ path, format: 'oci-archive' });
  });
});
