import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, createManualClock, GhcrErrorCode } from '@ghcr/oci-types';
import { rejectionOf } from '@ghcr/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  envWithPath,
  expectNoSecret,
  makeTempDir,
  removeTempDir,
  SECRETS,
  writeCredentialHelper,
} from '../testing/fixtures.js';
import { runCredentialHelper } from './credential-helper.js';

let dir: string;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  dir = await makeTempDir();
  await writeCredentialHelper(dir, 'test');
  env = envWithPath(dir, { HELPER_LOG: join(dir, 'helper.log') });
});
afterAll(() => removeTempDir(dir));

describe('runCredentialHelper (a real docker-credential-test script on PATH)', () => {
  it('sends the server URL on stdin and reads Username/Secret', async () => {
    const credential = await runCredentialHelper('test', 'ghcr.io', { env });
    expect(credential).toEqual({ username: 'helper-user', password: SECRETS.helperSecret });
    const log = await readFile(join(dir, 'helper.log'), 'utf8');
    expect(log).toContain('get ghcr.io');
  });

  it('maps the <token> username to an identity token', async () => {
    expect(await runCredentialHelper('test', 'token.example', { env })).toEqual({
      identityToken: SECRETS.helperIdentity,
    });
  });

  it('answers undefined for "credentials not found"', async () => {
    expect(await runCredentialHelper('test', 'unknown.example', { env })).toBeUndefined();
  });

  it('reports a missing binary by name, with how to fix it', async () => {
    const error = await rejectionOf(
      runCredentialHelper('missing', 'ghcr.io', { env, configuredBy: 'credsStore in /x/config.json' }),
    );
    expect(AuthenticationError.isInstance(error)).toBe(true);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.CREDENTIALS_UNAVAILABLE);
    expect((error as Error).message).toMatch(/"docker-credential-missing" was not found on PATH/);
    expect((error as Error).message).toMatch(/credsStore in \/x\/config\.json/);
    expect((error as Error).message).toMatch(/Install it/);
  });

  it('reports a non-zero exit with the code and the first stderr line', async () => {
    const error = await rejectionOf(runCredentialHelper('test', 'fail.example', { env }));
    expect((error as Error).message).toMatch(/exited with code 3: keychain is locked: unlock it first;/);
    expect((error as Error).message).not.toContain('second line');
  });

  it('stops a helper that does not answer within the timeout (injected clock)', async () => {
    const clock = createManualClock();
    const pending = runCredentialHelper('test', 'slow.example', { env, clock, timeoutMs: 5_000 });
    await clock.advance(4_999);
    let settled = false;
    pending.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await clock.advance(1);
    const error = await rejectionOf(pending);
    expect((error as AuthenticationError).code).toBe(GhcrErrorCode.CREDENTIALS_UNAVAILABLE);
    expect((error as Error).message).toMatch(/did not answer within 5000 ms/);
  });

  it('kills the helper when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = runCredentialHelper('test', 'slow.example', { env, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });

  it('refuses output that is not JSON without quoting it', async () => {
    const error = await rejectionOf(runCredentialHelper('test', 'garbage.example', { env }));
    expect((error as Error).message).toMatch(/not JSON/);
    expectNoSecret(error);
  });

  it('refuses helper names that are not a plain word', async () => {
    await expect(runCredentialHelper('../../bin/sh', 'ghcr.io', { env })).rejects.toThrow(
      /invalid docker credential helper name/,
    );
  });
});
