import { type ErrorCode, GhcrErrorCode, type GhcrErrorOptions, InvalidInputError } from './errors.js';

/**
 * The code of {@link InvalidReportError}: a vulnerability report (SARIF, CycloneDX, Trivy JSON, a
 * DSSE envelope or in-toto statement) that does not have the shape its format requires.
 * @public
 */
export const INVALID_REPORT_CODE: typeof GhcrErrorCode.INVALID_REPORT = GhcrErrorCode.INVALID_REPORT;

/**
 * A vulnerability report or attestation that fails validation. `format` names the format it was
 * read as (`sarif`, `cyclonedx`, `trivy`, `dsse`, `in-toto`, `cosign-vuln`, `sigstore-bundle`,
 * `code-scanning`) and `field` the offending field as a path (`runs[0].results[2].ruleId`).
 * @public
 */
export class InvalidReportError extends InvalidInputError {
  static override readonly errorName: string = 'InvalidReportError';
  static override readonly defaultCode: ErrorCode = INVALID_REPORT_CODE;
  /** The format the document was read as. */
  readonly format: string;
  /** The offending field (`runs[0].results[2].ruleId`); empty for the document as a whole. */
  readonly field: string;
  constructor(
    message: string,
    options: GhcrErrorOptions & { readonly format: string; readonly field?: string | undefined },
  ) {
    super(message, options);
    this.format = options.format;
    this.field = options.field ?? '';
  }
}
