import { describe, expect, it } from 'vitest';
import { GhcrError, InvalidInputError, ProtocolError } from './errors.js';
import { INVALID_REPORT_CODE, InvalidReportError } from './report-errors.js';

describe('InvalidReportError', () => {
  it('carries the format, the field and its code, and is an InvalidInputError', () => {
    const cause = new Error('zod');
    const error = new InvalidReportError('invalid SARIF report: runs: required', {
      format: 'sarif',
      field: 'runs',
      cause,
    });
    expect(error.code).toBe(INVALID_REPORT_CODE);
    expect(error.format).toBe('sarif');
    expect(error.field).toBe('runs');
    expect(error.cause).toBe(cause);
    expect(error.name).toBe('InvalidReportError');
    expect(error.isRetryable).toBe(false);
    expect(InvalidReportError.isInstance(error)).toBe(true);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect(GhcrError.isInstance(error)).toBe(true);
    expect(InvalidReportError.isInstance(new InvalidInputError('x'))).toBe(false);
  });

  it('defaults the field to the whole document', () => {
    expect(new InvalidReportError('x', { format: 'trivy' }).field).toBe('');
  });
});
