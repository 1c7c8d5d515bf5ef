// Type tests (checked by `tsc --noEmit`, the package's typecheck): an error's `code` is a union of
// literals, so a misspelled code is a compile error, and every optional option accepts `undefined`
// under `exactOptionalPropertyTypes`.
import { expectTypeOf } from 'vitest';
import {
  type DistributionErrorCode,
  type ErrorCode,
  GhcrError,
  type GhcrErrorCode,
  type GhcrErrorOptions,
  isGhcrError,
  NotFoundError,
  type RateLimitError,
} from './errors.js';
import { FileSystemError } from './file-system-error.js';

expectTypeOf<GhcrError['code']>().toEqualTypeOf<ErrorCode>();
expectTypeOf<ErrorCode>().toEqualTypeOf<GhcrErrorCode | DistributionErrorCode>();
expectTypeOf<NotFoundError['code']>().toEqualTypeOf<ErrorCode>();
expectTypeOf<typeof RateLimitError.defaultCode>().toEqualTypeOf<ErrorCode>();
expectTypeOf<'GHCR_NOT_FOUND'>().toExtend<ErrorCode>();
expectTypeOf<'MANIFEST_UNKNOWN'>().toExtend<ErrorCode>();
expectTypeOf<'GHCR_NOT_FOUDN'>().not.toExtend<ErrorCode>();
expectTypeOf<string>().not.toExtend<ErrorCode>();

// @ts-expect-error a code that is not one of the literals does not compile
new GhcrError('x', { code: 'GHCR_NOT_FOUDN' });

const error: unknown = new NotFoundError('x');
if (isGhcrError(error)) expectTypeOf(error).toEqualTypeOf<GhcrError>();
expectTypeOf(isGhcrError).guards.toEqualTypeOf<GhcrError>();

// Optional options accept an explicit `undefined` (a value passed through from another optional).
const maybe = (): string | undefined => undefined;
new GhcrError('x', { code: undefined, http: undefined, isRetryable: undefined, cause: undefined });
new NotFoundError('x', { resource: maybe() });
new FileSystemError('x', { path: maybe(), systemCode: maybe() });
expectTypeOf<{ code: undefined }>().toExtend<GhcrErrorOptions>();
