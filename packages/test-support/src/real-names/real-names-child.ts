/**
 * The program that runs inside the private namespace: it starts the stand-ins (simulations behind
 * the TLS front on port 443), runs a scenario against them, and writes what happened to a JSON
 * file for the test outside. Bundled with the scenario by `runWithRealNames`; never imported by a
 * test directly.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { systemClock } from '@ghcr/oci-types';
import { createSimulation, type Simulation, type SimulationOptions } from '@ghcr/simulation';
import type { Dispatcher } from 'undici';
import { endChildInput } from '../child-input.js';
import { type FrontRequest, startTlsFront } from './tls-front.js';

/**
 * What the parent hands the child (a JSON file named by `argv[2]`).
 * @internal
 */
export interface RealNamesChildConfig {
  readonly certificatePath: string;
  readonly keyPath: string;
  /** Where the child writes `{ result, requests }` (or `{ error }`). */
  readonly resultPath: string;
  /** The scenario's working directory (where `./oci-layout` is). */
  readonly workDirectory: string;
  /** The simulation profiles to start, each on its real host names; the first to claim a host serves it. */
  readonly profiles: readonly string[];
  /** Values the front looks for in every request header, by label. */
  readonly secrets: Readonly<Record<string, string>>;
  /** The scenario's input, as the test gave it. */
  readonly input: unknown;
}

/**
 * What a command run by {@link RealNamesContext.run} did.
 * @internal
 */
export interface CommandOutcome {
  readonly command: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * What a scenario gets: the simulations (already serving on their real names), a shell, and the
 * front's request log.
 * @internal
 */
export interface RealNamesContext {
  /** The simulations by profile (`ghcr`, and `dockerhub` when asked for). */
  readonly simulations: ReadonlyMap<string, Simulation>;
  /** The scenario's input, as the test gave it. */
  readonly input: unknown;
  /** The working directory of {@link RealNamesContext.run}. */
  readonly workDirectory: string;
  /** Runs one shell command line (`/bin/sh -c`) in the working directory, with the child's environment. */
  run(commandLine: string, options?: { readonly stdin?: string }): Promise<CommandOutcome>;
  /** What the front has received so far. */
  requests(): FrontRequest[];
}

/**
 * A scenario: the default export of a module given to `runWithRealNames`. It returns what the test
 * asserts on (JSON-serialisable).
 * @internal
 */
export type RealNamesScenario = (context: RealNamesContext) => Promise<unknown>;

/**
 * Every host a simulation answers on: the host of each of its `…Url` options, nested ones included
 * (the dockerhub profile's `dockerhub.webUrl`).
 */
function hostsOf(options: object): string[] {
  const hosts: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      hosts.push(...hostsOf(value));
      continue;
    }
    if (!name.endsWith('Url') || typeof value !== 'string') continue;
    try {
      hosts.push(new URL(value).hostname);
    } catch {
      // Not a URL: not a host of this simulation.
    }
  }
  return hosts;
}

/** Runs `commandLine` with `/bin/sh -c` in `workDirectory`, `stdin` on its input. @internal */
export function runCommand(
  commandLine: string,
  workDirectory: string,
  stdin: string | undefined,
): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', commandLine], {
      cwd: workDirectory,
      env: process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ command: commandLine, code, stdout, stderr }));
    endChildInput(child.stdin, stdin, reject);
  });
}

/**
 * Runs `scenario` with the stand-ins up, writes the outcome to the result file, and stops them.
 * @internal
 */
export async function runRealNamesChild(scenario: RealNamesScenario): Promise<void> {
  const configPath = process.argv[2];
  if (configPath === undefined) throw new Error('usage: node real-names-child.mjs CONFIG.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as RealNamesChildConfig;
  const simulations = new Map<string, Simulation>();
  const routes = new Map<string, Dispatcher>();
  for (const profile of config.profiles) {
    const simulation = createSimulation({
      profile: profile as NonNullable<SimulationOptions['profile']>,
      clock: systemClock,
    });
    simulations.set(profile, simulation);
    const dispatcher = simulation.dispatcher();
    // The first profile to claim a host keeps it (every profile has an apiUrl, api.github.com by
    // default; it is GitHub's, so the ghcr profile's when both run).
    for (const host of hostsOf(simulation.options)) if (!routes.has(host)) routes.set(host, dispatcher);
  }
  const front = await startTlsFront({
    routes,
    certificatePath: config.certificatePath,
    keyPath: config.keyPath,
    secrets: config.secrets,
  });
  try {
    const result = await scenario({
      simulations,
      input: config.input,
      workDirectory: config.workDirectory,
      run: (commandLine, options = {}) => runCommand(commandLine, config.workDirectory, options.stdin),
      requests: () => front.requests(),
    });
    writeFileSync(config.resultPath, JSON.stringify({ result, requests: front.requests() }));
  } catch (error) {
    const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
    writeFileSync(config.resultPath, JSON.stringify({ error: text, requests: front.requests() }));
  } finally {
    await front.close();
  }
}
