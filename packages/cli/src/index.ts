/**
 * `@ghcr/cli`: the `ghcr` command. The executable is `ghcr` (`dist/bin.cjs`); `run(argv, io)` runs it
 * in-process, with your streams, and resolves the exit code.
 *
 * @packageDocumentation
 */

export type { AttachedFile, AttachResult } from './commands/attach.js';
export type { CleanupOwnerResult, CleanupPackageResult, CleanupResult } from './commands/cleanup.js';
export type { CopiedReferrer, CopyResult } from './commands/copy.js';
export type { DeleteResult } from './commands/delete.js';
export type { GateResult } from './commands/gate.js';
export type { IndexCreateResult, IndexEntry } from './commands/index.js';
export type {
  InspectConfig,
  InspectDescriptor,
  InspectIndexEntry,
  InspectResult,
} from './commands/inspect.js';
export type { LoginResult } from './commands/login.js';
export type { LogoutResult } from './commands/logout.js';
export type { PullResult } from './commands/pull.js';
export type { PushResult } from './commands/push.js';
export type { ReferrersResult } from './commands/referrers.js';
export type { ServeResult } from './commands/serve.js';
export type { SignResult } from './commands/sign.js';
export type { TagResult } from './commands/tag.js';
export type { TagsResult } from './commands/tags.js';
export type { UntagResult } from './commands/untag.js';
export type { VerifyResult } from './commands/verify.js';
export type { VersionChangeResult, VersionEntry, VersionsListResult } from './commands/versions.js';
export type { ClientOverrides, CommandContext } from './context.js';
export { type DescribedError, USAGE_ERROR_CODE } from './errors.js';
export { ExitCode } from './exit-codes.js';
export type { GlobalOptions } from './global-options.js';
export type { RunIo } from './io.js';
export type { Output } from './output.js';
export type { RequestLogEntry } from './request-log.js';
export { run } from './run.js';
export type { TransferCounts } from './transfer.js';
