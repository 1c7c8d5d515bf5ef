/**
 * `@ghcr/simulation/vitest`: a fresh simulation per test.
 *
 * ```ts
 * const sim = useSimulation({ profile: 'ghcr' });
 * it('pulls', async () => {
 *   await seedDemo(sim.simulation);
 *   await request(url, { dispatcher: sim.dispatcher });
 * });
 * ```
 * @packageDocumentation
 */
import { type Clock, createManualClock, definedProps, type ManualClock } from '@ghcr/oci-types';
import type { Dispatcher } from 'undici';
import { afterEach, beforeEach } from 'vitest';
import type { SimulationOptions } from './options.js';
import { type SimulationServer, startSimulationServer } from './serve/server.js';
import { createSimulation, type Simulation } from './simulation.js';

/**
 * Options of {@link useSimulation}: simulation options plus lifecycle extras.
 * @public
 */
export interface UseSimulationOptions extends Omit<SimulationOptions, 'clock'> {
  /** Runs after creation, before each test (seed data, add faults). If omitted, nothing. */
  readonly setup?: ((simulation: Simulation) => void | Promise<void>) | undefined;
  /** Also start a loopback server over the simulation (its URLs become the simulation's origins). If omitted, false. */
  readonly server?: boolean | undefined;
  /** A clock factory, called per test. If omitted, `createManualClock()`. */
  readonly clock?: (() => Clock) | undefined;
}

/**
 * What the current test sees. Every getter throws when read outside a test (before `beforeEach`).
 * @public
 */
export interface SimulationAccessor {
  /** This test's simulation. */
  readonly simulation: Simulation;
  /** An in-process dispatcher over it (closed after the test). */
  readonly dispatcher: Dispatcher;
  /** The simulation clock; a ManualClock unless `clock` was given. */
  readonly clock: ManualClock;
  /** The loopback server, when `server: true`. */
  readonly server: SimulationServer;
}

/**
 * Registers `beforeEach`/`afterEach` hooks that create a fresh simulation (and dispatcher, and
 * optionally a loopback server) for every test and tear it down after, and returns an accessor.
 * Call it at the top of a `describe` block or test file.
 * @public
 */
export function useSimulation(options: UseSimulationOptions = {}): SimulationAccessor {
  const { setup, server: withServer = false, clock: clockFactory, ...simulationOptions } = options;
  let current:
    | { simulation: Simulation; dispatcher: Dispatcher; clock: Clock; server?: SimulationServer }
    | undefined;

  beforeEach(async () => {
    const clock = clockFactory?.() ?? createManualClock();
    let simulation: Simulation;
    let server: SimulationServer | undefined;
    if (withServer) {
      server = await startSimulationServer({ simulationOptions: { ...simulationOptions, clock } });
      simulation = server.simulation;
    } else {
      simulation = createSimulation({ ...simulationOptions, clock });
    }
    const dispatcher = simulation.dispatcher();
    current = { simulation, dispatcher, clock, ...definedProps({ server }) };
    await setup?.(simulation);
  });

  afterEach(async () => {
    const finished = current;
    current = undefined;
    if (finished === undefined) return;
    await finished.dispatcher.close();
    await finished.server?.close();
  });

  const get = (): NonNullable<typeof current> => {
    if (current === undefined) {
      throw new Error(
        'useSimulation(): the simulation exists only inside a test (after beforeEach); read it in it()/test()',
      );
    }
    return current;
  };
  return {
    get simulation() {
      return get().simulation;
    },
    get dispatcher() {
      return get().dispatcher;
    },
    get clock() {
      return get().clock as ManualClock;
    },
    get server() {
      const { server } = get();
      if (server === undefined)
        throw new Error('useSimulation(): pass { server: true } to start a loopback server');
      return server;
    },
  };
}
