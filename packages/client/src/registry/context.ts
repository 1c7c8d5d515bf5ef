import type { Transport } from '@ghcr/transport';
import type { ClientEventEmitter } from '../events.js';
import type { ClientSettings } from '../options.js';

/**
 * What every capability of one client shares.
 * @internal
 */
export interface ClientContext {
  readonly settings: ClientSettings;
  readonly transport: Transport;
  readonly events: ClientEventEmitter;
}
