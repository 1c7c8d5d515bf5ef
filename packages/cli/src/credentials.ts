import { type Credential, type CredentialProvider, defaultCredentialChain } from '@ghcr/auth';

/**
 * The secret strings of a credential and the forms they take on the wire (`base64(secret)` for
 * GHCR's `Bearer base64(PAT)`, `base64(user:secret)` for Basic), for redaction.
 * @internal
 */
export function secretFormsOf(credential: Credential): string[] {
  const forms: string[] = [];
  for (const value of [credential.password, credential.identityToken, credential.registryToken]) {
    if (value === undefined || value === '') continue;
    forms.push(value, Buffer.from(value).toString('base64'));
    if (credential.username !== undefined) {
      forms.push(Buffer.from(`${credential.username}:${value}`).toString('base64'));
    }
  }
  return forms;
}

/**
 * Wraps a credential provider so every credential it hands out is remembered for redaction, and
 * where it came from is reported (for `--debug`); the secret itself is never reported.
 * @internal
 */
export function observedCredentials(
  provider: CredentialProvider,
  observe: {
    readonly secret: (secret: string) => void;
    readonly source: (registry: string, source: string | undefined) => void;
  },
): CredentialProvider {
  return {
    name: provider.name,
    async resolve(registry, options) {
      const resolved = await provider.resolve(registry, options);
      if (resolved !== undefined)
        for (const secret of secretFormsOf(resolved.credential)) observe.secret(secret);
      observe.source(registry, resolved?.source);
      return resolved;
    },
  };
}

/**
 * The credential chain of the CLI: `@ghcr/auth`'s default chain (GHCR_TOKEN / GITHUB_TOKEN /
 * GH_TOKEN for ghcr.io, Docker's config.json and its credential helpers, podman's auth.json, the
 * GitHub CLI), reading the run's environment.
 * @internal
 */
export function cliCredentialChain(env: Readonly<Record<string, string | undefined>>): CredentialProvider {
  return defaultCredentialChain({ env });
}
