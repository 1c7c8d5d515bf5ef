/**
 * Test helper: a client wired to an in-process simulation with a manual clock and a PAT that may
 * pull, push and delete. Not part of the published API.
 */
import { staticCredentials } from '@ghcr/auth';
import type { ManualClock } from '@ghcr/oci-types';
import { createSimulation, type Simulation, type SimulationOptions } from '@ghcr/simulation';
import { createRecordingClock } from '@ghcr/test-support';
import { createGhcrClient, type GhcrClient } from '../client.js';
import type { GhcrClientOptions } from '../options.js';

/** @internal */
export interface SimulatedClient {
  readonly sim: Simulation;
  readonly client: GhcrClient;
  readonly clock: ManualClock;
  /** Every sleep the client asked the clock for, in ms. */
  readonly sleeps: number[];
  readonly pat: string;
}

/** The distribution profile's origin in these tests. @internal */
export const DISTRIBUTION_URL = 'https://registry.test';

/** @internal */
export function simulatedClient(
  options: {
    readonly profile?: 'ghcr' | 'distribution';
    readonly simulation?: Omit<SimulationOptions, 'clock' | 'profile'>;
    readonly client?: Partial<GhcrClientOptions>;
  } = {},
): SimulatedClient {
  const profile = options.profile ?? 'ghcr';
  const clock = createRecordingClock();
  const sleeps = clock.sleeps;
  const sim = createSimulation({
    profile,
    clock,
    ...(profile === 'distribution' ? { registryUrl: DISTRIBUTION_URL } : {}),
    ...options.simulation,
  });
  sim.createUser('octo');
  const pat = sim.createToken({
    user: 'octo',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const client = createGhcrClient({
    registry: profile === 'ghcr' ? 'ghcr.io' : new URL(DISTRIBUTION_URL).host,
    dispatcher: sim.dispatcher(),
    credentials: staticCredentials({ username: 'octo', password: pat }),
    clock,
    transportOptions: { retry: { random: () => 0 } },
    ...options.client,
  });
  return { sim, client, clock, sleeps, pat };
}

/** Reads a stream to the end: the bytes received, and the error it ended with (if any). @internal */
export async function drain(stream: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; error: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream) chunks.push(Buffer.from(chunk));
    return { bytes: Buffer.concat(chunks), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(chunks), error };
  }
}
