import { createTransport, type Transport } from '@ghcr/transport';
import { type Blobs, createBlobs } from './blobs.js';
import type { ClientContext } from './context.js';
import { type ClientEvents, createClientEvents } from './events.js';
import { createManifests, type Manifests } from './manifests.js';
import { type GhcrClientOptions, type ResolvedGhcrClientOptions, resolveClientSettings } from './options.js';
import { createTags, type Tags } from './tags.js';

/**
 * A client for one registry. Its capabilities are narrow interfaces, each usable on its own.
 * @public
 */
export interface GhcrClient {
  /** Blob reads (verified, resumable) and uploads (mount, monolithic, chunked and resumable). */
  readonly blobs: Blobs;
  /** Manifest get/head/put/delete with exact bytes. */
  readonly manifests: Manifests;
  /** Tag list, tag, untag. */
  readonly tags: Tags;
  /** Operation events (`pushed`, `tagged`, `deleted`) and `progress`. */
  readonly events: ClientEvents;
  /** The registry host (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  /** The base URL requests go to (`https://ghcr.io`). */
  readonly baseUrl: string;
  /** Which registry behaviour the client expects. */
  readonly flavor: 'ghcr' | 'distribution';
  /** The options after defaults. */
  readonly options: ResolvedGhcrClientOptions;
  /** The transport requests go through (shared rate limiter, token cache, metrics). */
  readonly transport: Transport;
  /** Closes the transport this client built (a transport you passed in is left to you). */
  close(): Promise<void>;
}

/**
 * Creates a client. Options are validated once; a bad one is a `ConfigError` naming the field.
 *
 * ```ts
 * const client = createGhcrClient({ registry: 'ghcr.io', authorizer });
 * const manifest = await client.manifests.get('octo/app', 'latest');
 * ```
 * @public
 */
export function createGhcrClient(options: GhcrClientOptions = {}): GhcrClient {
  const settings = resolveClientSettings(options);
  const resolved = settings.options;
  const ownTransport = resolved.transport === undefined;
  const transport =
    resolved.transport ??
    createTransport({
      ...(resolved.transportOptions ?? {}),
      clock: resolved.clock,
      ...(resolved.dispatcher === undefined ? {} : { dispatcher: resolved.dispatcher }),
      ...(resolved.authorizer === undefined ? {} : { authorizer: resolved.authorizer }),
    });
  const events = createClientEvents();
  const context: ClientContext = { settings, transport, events };
  const blobs = createBlobs(context);
  const manifests = createManifests(context);
  const tags = createTags(context, manifests, blobs);
  return {
    blobs,
    manifests,
    tags,
    events: { on: events.on, off: events.off, once: events.once },
    registry: settings.host,
    baseUrl: settings.baseUrl,
    flavor: settings.flavor,
    options: resolved,
    transport,
    async close() {
      if (ownTransport) await transport.close();
    },
  };
}
