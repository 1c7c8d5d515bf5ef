// The harness's settings from the environment (GHCR_BENCH_*, GHCR_CLIENT_DIST). Bench scripts only:
// nothing here reaches a turbo task, so none of these belong in turbo.json.
const { env } = process;

/** The value of `name`, or undefined when it is unset or empty. */
export function setting(name) {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}
