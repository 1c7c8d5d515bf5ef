/**
 * The exit codes of the `ghcr` command (issue 7): 0 success; 1 the operation failed; 2 usage error;
 * 3 the gate blocked, validate found broken images, or sync stopped at a rate limit.
 * @public
 */
export const ExitCode = {
  Success: 0,
  Failed: 1,
  Usage: 2,
  Blocked: 3,
} as const;

/** @public */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
