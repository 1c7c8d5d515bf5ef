// The harness's settings from the environment (GHCR_BENCH_*, GHCR_CLIENT_DIST). Bench scripts only:
// nothing here reaches a turbo task, so none of these belong in turbo.json.
const { env } = process;

/** The value of `name`, or undefined when it is unset or empty. */
export function setting(name) {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Variables taken out of every timed process's environment, with why. `NODE_EXTRA_CA_CERTS`:
 * Node 20 builds its certificate store and parses the named file as it starts, before any code
 * runs; Node 22 and later do that when TLS first needs it, and Go (skopeo) and curl read CA files
 * only for TLS. No transfer in the bench uses TLS, and a machine that sets the variable (for a
 * proxy of its own) would otherwise charge every Node 20 process for certificates it never uses.
 * The start-up table shows `node -e 0` with the variable as well, when it is set.
 * `GHCR_BENCH_KEEP_ENV=1` keeps the environment as it is.
 */
export const REMOVED_FROM_TOOL_ENV = setting('GHCR_BENCH_KEEP_ENV') === '1' ? [] : ['NODE_EXTRA_CA_CERTS'];

/** The variables of {@link REMOVED_FROM_TOOL_ENV} this machine sets, with their values. */
export const removedToolEnv = Object.fromEntries(
  REMOVED_FROM_TOOL_ENV.filter((name) => setting(name) !== undefined).map((name) => [name, env[name]]),
);

/** The environment of a timed process: this one's, less {@link REMOVED_FROM_TOOL_ENV}, plus `extra`. */
export function toolEnvironment(extra = {}) {
  const result = { ...env };
  for (const name of REMOVED_FROM_TOOL_ENV) delete result[name];
  return { ...result, ...extra };
}
