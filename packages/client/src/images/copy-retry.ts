import type { CopyRetry } from '../content/copy.js';
import type { ClientEventSink, RegistryEndpoint } from '../registry/dependencies.js';
import { messageOf } from '../registry/resume.js';

/**
 * Emits the client's `retry` event for a blob an image operation fetches again after its bytes
 * failed verification.
 * @internal
 */
export function emitCopyRetry(
  deps: { readonly endpoint: Pick<RegistryEndpoint, 'host'>; readonly events: ClientEventSink },
  operation: string,
  where: { readonly registry: string; readonly repository: string },
  retry: CopyRetry,
): void {
  deps.events.emit('retry', {
    operation,
    registry: where.registry,
    repository: where.repository,
    digest: retry.digest,
    action: 'refetch',
    offset: 0,
    attempt: retry.attempt,
    message: `blob ${retry.digest}: ${messageOf(retry.error)}; the bad copy was discarded, fetching it again (attempt ${retry.attempt})`,
  });
}
