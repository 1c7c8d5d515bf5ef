import { AuthenticationError, GhcrErrorCode } from '@ghcr/oci-types';
import type { CredentialProvider, ResolvedCredential } from './credential.js';

/**
 * Options of {@link chainCredentials}.
 * @public
 */
export interface ChainCredentialsOptions {
  /**
   * Called with each provider error that a later provider's answer made moot (a broken
   * `credsStore` when `GHCR_TOKEN` answered, say), for `--debug` output. If omitted, such errors
   * are dropped silently.
   */
  readonly onProviderError?: ((error: unknown, provider: CredentialProvider) => void) | undefined;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return (
    signal?.aborted === true &&
    (error === signal.reason || (error as Error | undefined)?.name === 'AbortError')
  );
}

/**
 * Asks `providers` in order; the first that answers wins and later ones are not asked.
 *
 * Errors: a provider that throws is skipped and its error kept. If a later provider answers, the
 * answer wins and the kept errors go to `onProviderError`. If none answers and at least one
 * threw, the chain throws `AuthenticationError` code `GHCR_CREDENTIALS_UNAVAILABLE` whose message
 * lists each failure (an `AggregateError` of them is the `cause`): a configured source that is
 * broken is reported rather than silently turning into anonymous access. If none answers and
 * none threw, it answers `undefined` (anonymous). An abort is rethrown at once.
 * @public
 */
export function chainCredentials(
  providers: readonly CredentialProvider[],
  options: ChainCredentialsOptions = {},
): CredentialProvider {
  const list = [...providers];
  return {
    name: `chain(${list.map((provider) => provider.name).join(', ')})`,
    async resolve(registry, resolveOptions = {}): Promise<ResolvedCredential | undefined> {
      const failures: { provider: CredentialProvider; error: unknown }[] = [];
      for (const provider of list) {
        let answer: ResolvedCredential | undefined;
        try {
          answer = await provider.resolve(registry, resolveOptions);
        } catch (error: unknown) {
          if (isAbort(error, resolveOptions.signal)) throw error;
          failures.push({ provider, error });
          continue;
        }
        if (answer !== undefined) {
          for (const failure of failures) {
            try {
              options.onProviderError?.(failure.error, failure.provider);
            } catch {
              // A reporting hook must not change which credential is used.
            }
          }
          return answer;
        }
      }
      if (failures.length === 0) return undefined;
      const detail = failures
        .map(
          ({ provider, error }) =>
            `${provider.name}: ${error instanceof Error ? error.message : String(error)}`,
        )
        .join('; ');
      throw new AuthenticationError(
        `no credentials for ${registry}: ${failures.length === 1 ? 'a credential source' : `${failures.length} credential sources`} failed and no other answered (${detail})`,
        {
          code: GhcrErrorCode.CREDENTIALS_UNAVAILABLE,
          cause: new AggregateError(
            failures.map((failure) => failure.error),
            `credential providers failed for ${registry}`,
          ),
        },
      );
    },
  };
}
