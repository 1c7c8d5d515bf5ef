/**
 * Test helpers: temporary directories, a real `docker-credential-test` executable, and a scan
 * that fails when a secret shows up in an error.
 * @internal
 */

import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

/** Secrets used across the tests; none may ever appear in an error. @internal */
export const SECRETS = {
  helperSecret: 'ghp_helperSecretValue0001',
  helperIdentity: 'identity-refresh-secret-0002',
  inlinePassword: 'ghp_inlinePasswordValue0003',
  envToken: 'ghp_environmentToken0004',
  ghToken: 'gho_ghCliOauthToken0005',
  identityInline: 'inline-identity-token-0006',
  registryToken: 'registry-token-secret-0007',
} as const;

/** A fresh temporary directory; remove it with {@link removeTempDir}. @internal */
export function makeTempDir(prefix = 'ghcr-auth-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** @internal */
export function removeTempDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/**
 * Writes a real `docker-credential-<name>` shell script into `dir`. It logs the server URL it
 * read on stdin to `$HELPER_LOG` (when set), then answers by server:
 * `ghcr.io` user+secret, `token.example` an identity token, `fail.example` exit 3 with stderr,
 * `slow.example` never answers, `garbage.example` non-JSON, anything else "not found".
 * @internal
 */
export async function writeCredentialHelper(dir: string, name = 'test'): Promise<string> {
  const path = join(dir, `docker-credential-${name}`);
  const script = `#!/bin/sh
read server
if [ -n "$HELPER_LOG" ]; then echo "$1 $server" >> "$HELPER_LOG"; fi
case "$server" in
  ghcr.io) echo '{"ServerURL":"ghcr.io","Username":"helper-user","Secret":"${SECRETS.helperSecret}"}' ;;
  https://index.docker.io/v1/) echo '{"ServerURL":"https://index.docker.io/v1/","Username":"hub-user","Secret":"${SECRETS.helperSecret}"}' ;;
  token.example) echo '{"ServerURL":"token.example","Username":"<token>","Secret":"${SECRETS.helperIdentity}"}' ;;
  fail.example) echo "keychain is locked: unlock it first" >&2; echo "second line" >&2; exit 3 ;;
  slow.example) exec sleep 30 ;;
  garbage.example) echo "not json ${SECRETS.helperSecret}" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

/** An environment whose PATH starts with `dir`, plus `extra`. @internal */
export function envWithPath(
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string | undefined> {
  return { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...extra };
}

/** Every text an error exposes: message, JSON form, and the messages of its cause chain. @internal */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (current instanceof Error) {
      texts.push(current.message);
      const toJSON = (current as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') texts.push(JSON.stringify(toJSON.call(current)));
      if (current instanceof AggregateError)
        for (const inner of current.errors) texts.push(...errorTexts(inner));
      current = current.cause;
    } else {
      texts.push(String(current));
      break;
    }
  }
  return texts;
}

/** Fails when any secret (or its base64 form) appears in the error's texts. @internal */
export function expectNoSecret(error: unknown, secrets: Iterable<string> = Object.values(SECRETS)): void {
  const texts = errorTexts(error).join('\n');
  for (const secret of secrets) {
    expect(texts).not.toContain(secret);
    expect(texts).not.toContain(Buffer.from(secret).toString('base64'));
  }
}
