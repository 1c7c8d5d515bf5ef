/**
 * Test helper: the one way tests build a `ClientContext` for a capability, the way
 * `createGhcrClient` wires it (the client's settings and transport), with its own event emitter
 * unless one is given. Not part of the published API.
 */
import type { GhcrClient } from '../client.js';
import { type ClientEventEmitter, createClientEvents } from '../events.js';
import { resolveClientSettings } from '../options.js';
import type { ClientContext } from '../registry/context.js';

/** The context `client`'s capabilities are built over, with `events` (a fresh emitter if omitted). @internal */
export function contextOf(
  client: GhcrClient,
  events: ClientEventEmitter = createClientEvents(),
): ClientContext {
  return {
    settings: resolveClientSettings({ ...client.options, transport: client.transport }),
    transport: client.transport,
    events,
  };
}
