import {
  type ErrorCode,
  type ErrorFamily,
  GhcrError,
  GhcrErrorCode,
  type GhcrErrorOptions,
} from './errors.js';

/**
 * A local file operation failed (reading or writing an OCI image layout, a source file): no
 * space, no permission, a read-only file system. The `cause` is Node's error; `path` names the
 * file and `systemCode` carries Node's code (`ENOSPC`, `EACCES`, …). Not retryable as such.
 * @public
 */
export class FileSystemError extends GhcrError {
  static override readonly errorName: string = 'FileSystemError';
  static override readonly family: ErrorFamily = 'resource';
  static override readonly defaultCode: ErrorCode = GhcrErrorCode.FILE_SYSTEM;
  /** The file or directory the operation was on. */
  declare readonly path?: string;
  /** Node's error code (`ENOSPC`, `EACCES`, `EROFS`, …), when there was one. */
  declare readonly systemCode?: string;
  constructor(
    message: string,
    options: GhcrErrorOptions & {
      readonly path?: string | undefined;
      readonly systemCode?: string | undefined;
    } = {},
  ) {
    super(message, options);
    if (options.path !== undefined) this.path = options.path;
    if (options.systemCode !== undefined) this.systemCode = options.systemCode;
  }
}
