import { type CredentialProvider, secretsOf } from '@ghcr/auth';

/**
 * The secrets of the credentials one client has handed out, for the transport to scrub from error
 * messages (and so from spans, logs and `--json` output). A registry or API that echoes a
 * credential in an error body must not put it in front of the user.
 * @internal
 */
export interface SecretMemory {
  /** `provider`, remembering the secrets of every credential it resolves. Undefined stays undefined. */
  watch(provider: CredentialProvider | undefined): CredentialProvider | undefined;
  /** The transport's `secrets` option: what was remembered, plus what `also` returns. */
  secrets(also?: () => Iterable<string>): () => Iterable<string>;
}

/** @internal */
export function createSecretMemory(): SecretMemory {
  const remembered = new Set<string>();
  return {
    watch(provider) {
      if (provider === undefined) return undefined;
      return {
        name: provider.name,
        async resolve(registry, options) {
          const resolved = await provider.resolve(registry, options);
          for (const secret of secretsOf(resolved?.credential)) remembered.add(secret);
          return resolved;
        },
      };
    },
    secrets(also) {
      return () => (also === undefined ? remembered : [...remembered, ...also()]);
    },
  };
}
