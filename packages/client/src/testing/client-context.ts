/**
 * Test helper: the one way tests build the dependencies of a capability, the way
 * `createGhcrClient` wires them (the client's settings and transport), with its own event emitter
 * unless one is given. Not part of the published API.
 */
import { type GhcrClient, registryDependencies } from '../client.js';
import { type ClientEventEmitter, createClientEvents } from '../events.js';
import { resolveClientSettings } from '../options.js';
import type { RegistryDependencies } from '../registry/dependencies.js';

/** The dependencies `client`'s capabilities are built from, with `events` (a fresh emitter if omitted). @internal */
export function contextOf(
  client: GhcrClient,
  events: ClientEventEmitter = createClientEvents(),
): RegistryDependencies {
  return registryDependencies(
    resolveClientSettings({ ...client.options, transport: client.transport }),
    client.transport,
    events,
  );
}
