import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import type { RequestHandler } from 'msw';
import type { Dispatcher } from 'undici';
import { createTokenService } from './auth/tokens.js';
import { createAnnotationRegistry, type SimulationContext } from './context.js';
import { SimulationDispatcher } from './dispatch/dispatcher.js';
import type { ExchangeEnvironment } from './exchange.js';
import { createFaultInjector, type FaultInjector } from './faults/fault-injector.js';
import { createGithubApiHandlers } from './github-api/index.js';
import { createRequestLog, type RequestLog } from './log.js';
import {
  type ResolvedSimulationOptions,
  resolveSimulationOptions,
  type SimulationOptions,
} from './options.js';
import { createRegistryHandlerSet } from './registry/handlers.js';
import { createOperationClassifier } from './registry/routes.js';
import type { BlobStore } from './state/blob-store.js';
import { createDiskBlobStore } from './state/disk-store.js';
import { createMemoryBlobStore } from './state/memory-store.js';
import type { PackageScope, SimulationVisibility } from './state/records.js';
import { SimulationState } from './state/simulation-state.js';

/**
 * An in-memory (or on-disk) GHCR: registry, token endpoint, blob host and GitHub Packages API,
 * as msw handlers, an in-process undici dispatcher, and (with `startSimulationServer`) a loopback
 * server.
 * @public
 */
export interface Simulation {
  /** The options after defaults. */
  readonly options: ResolvedSimulationOptions;
  /** Owners, tokens, repositories and packages. */
  readonly state: SimulationState;
  /** The clock every timestamp, expiry and delay reads. */
  readonly clock: Clock;
  /** msw handlers for the registry, token endpoint, blob host and GitHub API. */
  readonly handlers: RequestHandler[];
  /** Every request served by the dispatcher or the loopback server. */
  readonly log: RequestLog;
  /** Fault rules applied by the dispatcher and the loopback server. */
  readonly faults: FaultInjector;
  /** The context handed to handler factories. */
  readonly context: SimulationContext;
  /** A new undici Dispatcher answering in-process (each call returns a fresh one over the same state). */
  dispatcher(): Dispatcher;
  /** Creates a user (idempotent). */
  createUser(login: string): void;
  /** Creates an organisation, optionally with admins (users, created when unknown). */
  createOrganization(login: string, options?: { readonly admins?: readonly string[] }): void;
  /** Creates a PAT for `user` (created if unknown); `token` sets its value (e.g. `ghcr serve --token`), else one is generated. */
  createToken(options: {
    readonly user: string;
    readonly scopes: readonly PackageScope[];
    readonly token?: string;
  }): string;
  /** Sets a package's visibility (declaring the package when nothing was pushed yet). */
  setVisibility(owner: string, packageName: string, visibility: SimulationVisibility): void;
  /** Forgets all state, log entries, fault rules and rate-limit budgets. */
  reset(): void;
}

/** Where startSimulationServer finds a simulation's serving internals. @internal */
export const EXCHANGE = Symbol.for('ghcr.simulation.exchange');

/** @internal */
export function exchangeEnvironmentOf(simulation: Simulation): ExchangeEnvironment {
  const env = (simulation as unknown as Record<symbol, ExchangeEnvironment | undefined>)[EXCHANGE];
  if (env === undefined) throw new TypeError('not a simulation created by createSimulation()');
  return env;
}

function createStore(options: ResolvedSimulationOptions): BlobStore {
  return options.store.kind === 'disk'
    ? createDiskBlobStore(options.store.directory)
    : createMemoryBlobStore();
}

/**
 * Creates a simulation. With `store: { kind: 'disk', directory }` it reopens what an earlier
 * simulation saved there.
 * @throws ConfigError naming the option that is invalid.
 * @public
 */
export function createSimulation(options: SimulationOptions = {}): Simulation {
  const resolved = resolveSimulationOptions(options);
  const clock = resolved.clock;
  const now = (): number => clock.now();
  const state = new SimulationState({
    store: createStore(resolved),
    now,
    defaultVisibility: resolved.defaultVisibility,
  });
  const log = createRequestLog();
  const tokens = createTokenService({
    state,
    now,
    ttlSeconds: resolved.tokenTtlSeconds,
    ...definedProps({ signing: resolved.tokenSigning }),
  });
  const annotations = createAnnotationRegistry();
  const context: SimulationContext = {
    options: resolved,
    state,
    clock,
    log,
    tokens,
    now,
    annotate: (request, annotation) => annotations.annotate(request, annotation),
  };
  let registry = createRegistryHandlerSet(context);
  const handlers: RequestHandler[] = [...registry.handlers, ...createGithubApiHandlers(context)];
  const faults = createFaultInjector();
  const env: ExchangeEnvironment = {
    handlers,
    log,
    faults,
    clock,
    annotations,
    classify: createOperationClassifier(resolved),
  };
  const simulation: Simulation = {
    options: resolved,
    state,
    clock,
    handlers,
    log,
    faults,
    context,
    dispatcher: () => new SimulationDispatcher(env),
    createUser(login) {
      state.createUser(login);
    },
    createOrganization(login, organization = {}) {
      state.createOrganization(login, organization.admins ?? []);
    },
    createToken({ user, scopes, token }) {
      return state.createToken(user, scopes, token);
    },
    setVisibility(owner, packageName, visibility) {
      state.setVisibility(owner, packageName, visibility);
    },
    reset() {
      state.reset();
      log.clear();
      faults.clear();
      // Fresh handler closures (rate-limit budgets, signing secrets) in the same array.
      registry = createRegistryHandlerSet(context);
      handlers.splice(0, handlers.length, ...registry.handlers, ...createGithubApiHandlers(context));
    },
  };
  Object.defineProperty(simulation, EXCHANGE, { value: env, enumerable: false });
  return simulation;
}
