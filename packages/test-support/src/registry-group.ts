import { type DockerRegistry, type DockerRegistryOptions, startDockerRegistry } from './docker-registry.js';

/**
 * Registries started together and stopped together (after a failure, or on SIGINT/SIGTERM).
 * @internal
 */
export interface DockerRegistryGroup {
  /** Starts a registry (see `startDockerRegistry`) that `stopAll()` stops unless it was stopped already. */
  start(options?: DockerRegistryOptions): Promise<DockerRegistry>;
  /** The registries started and not yet stopped. */
  readonly running: readonly DockerRegistry[];
  /** Stops every registry still running (removing their directories); failures to stop are ignored. */
  stopAll(): Promise<void>;
}

/**
 * A new, empty group of registries.
 * @internal
 */
export function createDockerRegistryGroup(): DockerRegistryGroup {
  const live = new Set<DockerRegistry>();
  return {
    async start(options) {
      const started = await startDockerRegistry(options);
      const registry: DockerRegistry = {
        ...started,
        stop: (stopOptions) => {
          live.delete(registry);
          return started.stop(stopOptions);
        },
      };
      live.add(registry);
      return registry;
    },
    get running() {
      return [...live];
    },
    async stopAll() {
      await Promise.all([...live].map((registry) => registry.stop().catch(() => undefined)));
    },
  };
}
