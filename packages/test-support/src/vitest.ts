/**
 * `@ghcr/test-support/vitest`: integration-test scaffolding over the harness.
 *
 * ```ts
 * describeWithBinaries(['docker-registry'], 'against docker-registry', () => {
 *   const registry = useDockerRegistry();
 *   it('answers', async () => {
 *     expect((await fetch(`${registry.url}/v2/`)).status).toBe(200);
 *   });
 * });
 * ```
 * @packageDocumentation
 */
import { ConfigError } from '@ghcr/oci-types';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type IntegrationAvailability, integrationAvailability } from './binaries.js';
import {
  type DockerRegistry,
  type DockerRegistryOptions,
  type DockerRegistryStopOptions,
  startDockerRegistry,
} from './docker-registry.js';

/**
 * What {@link describeWithBinaries} does with an availability: run the block; skip it (one skipped
 * test titled with the reason); or, under `CI=true`, fail (one failing test naming the programs).
 * @internal
 */
export type IntegrationPlan =
  | { readonly kind: 'run' }
  | { readonly kind: 'skip' | 'fail'; readonly title: string; readonly reason: string };

/**
 * Decides {@link IntegrationPlan} for an availability (pure, so it is tested without registering
 * a skipped test).
 * @internal
 */
export function integrationPlan(availability: IntegrationAvailability): IntegrationPlan {
  if (availability.available) return { kind: 'run' };
  if (availability.mustFail) {
    return {
      kind: 'fail',
      title: `needs ${availability.missing.join(' and ')} (CI=true)`,
      reason: availability.reason,
    };
  }
  return { kind: 'skip', title: `skipped: ${availability.reason}`, reason: availability.reason };
}

/**
 * A `describe` that runs when the programs it needs are installed. When one is missing it is
 * skipped with the reason and the install command (and a warning), except under `CI=true`, where
 * it holds one failing test instead, so CI cannot skip silently.
 * @param needs - The program names (checked with `integrationAvailability`), or an availability
 *   already worked out.
 * @internal
 */
export function describeWithBinaries(
  needs: readonly string[] | IntegrationAvailability,
  name: string,
  body: () => void,
): void {
  const plan = integrationPlan('available' in needs ? needs : integrationAvailability(needs));
  if (plan.kind === 'run') {
    describe(name, body);
    return;
  }
  describe(name, () => {
    if (plan.kind === 'fail') {
      it(plan.title, () => {
        throw new ConfigError(plan.reason);
      });
    } else {
      it.skip(plan.title, () => {});
      console.warn(`[${name}] ${plan.reason}`);
    }
  });
}

/**
 * Starts a registry in `beforeAll` and stops it in `afterAll`, and returns it. The returned object
 * reads through to the running registry: use it inside tests and later hooks (reading it earlier
 * throws). Hooks run in the order they are registered, so `options` may be a function reading what
 * an earlier `beforeAll` set up (a token server's URL, say).
 * @param options - Registry options, or a function returning them. If omitted, the defaults of
 *   `startDockerRegistry`.
 * @internal
 */
export function useDockerRegistry(
  options: DockerRegistryOptions | (() => DockerRegistryOptions) = {},
): DockerRegistry {
  let current: DockerRegistry | undefined;
  beforeAll(async () => {
    current = await startDockerRegistry(typeof options === 'function' ? options() : options);
  });
  afterAll(async () => {
    await current?.stop();
  });
  const get = (): DockerRegistry => {
    if (current === undefined) {
      throw new ConfigError(
        'useDockerRegistry: the registry starts in beforeAll; read it inside a test or a later hook',
      );
    }
    return current;
  };
  return {
    get host() {
      return get().host;
    },
    get url() {
      return get().url;
    },
    get port() {
      return get().port;
    },
    get pid() {
      return get().pid;
    },
    get storageDir() {
      return get().storageDir;
    },
    logs: () => get().logs(),
    accessLog: () => get().accessLog(),
    cpuTimeMs: () => get().cpuTimeMs(),
    stop: (stopOptions?: DockerRegistryStopOptions) => get().stop(stopOptions),
  };
}
