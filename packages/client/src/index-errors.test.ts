import * as ociTypes from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import * as client from './index.js';

// Every class of the GhcrError hierarchy @ghcr/oci-types exports, found by its brand name rather
// than listed by hand, so a class added there and forgotten here fails this test.
const errorClassNames = Object.entries(ociTypes)
  .filter(
    ([, value]) =>
      typeof value === 'function' &&
      (value === ociTypes.GhcrError || value.prototype instanceof ociTypes.GhcrError),
  )
  .map(([name]) => name)
  .sort();

describe('@ghcr/client re-exports the error hierarchy', () => {
  it('finds the whole hierarchy in @ghcr/oci-types', () => {
    expect(errorClassNames).toContain('GhcrError');
    expect(errorClassNames).toContain('ConfigError');
    expect(errorClassNames).toContain('InvalidReportError');
    expect(errorClassNames.length).toBeGreaterThanOrEqual(20);
  });

  it.each(errorClassNames)('%s is the same class as in @ghcr/oci-types', (name) => {
    expect((client as Record<string, unknown>)[name]).toBe((ociTypes as Record<string, unknown>)[name]);
  });

  it('re-exports isGhcrError, isErrorCode and the code tables', () => {
    expect(client.isGhcrError).toBe(ociTypes.isGhcrError);
    expect(client.isErrorCode).toBe(ociTypes.isErrorCode);
    expect(client.GhcrErrorCode).toBe(ociTypes.GhcrErrorCode);
    expect(client.DistributionErrorCode).toBe(ociTypes.DistributionErrorCode);
  });

  it('isGhcrError recognises what the client throws, and narrows it for a switch on code', () => {
    let caught: unknown;
    try {
      client.createGhcrClient({ registy: 'ghcr.io' } as unknown as client.GhcrClientOptions);
    } catch (error) {
      caught = error;
    }
    expect(client.isGhcrError(caught)).toBe(true);
    if (!client.isGhcrError(caught)) return;
    expect(caught.code).toBe(client.GhcrErrorCode.CONFIG);
    expect(client.ConfigError.isInstance(caught)).toBe(true);
    expect(client.isGhcrError(new Error('plain'))).toBe(false);
  });
});
