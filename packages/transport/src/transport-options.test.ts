import { ConfigError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { createTransport } from './transport.js';
import type { TransportOptions } from './transport-options.js';

function configErrorOf(options: unknown): ConfigError {
  try {
    createTransport(options as TransportOptions);
  } catch (error) {
    if (ConfigError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('createTransport accepted the options');
}

describe('createTransport refuses unknown option keys by name', () => {
  it('names a misspelt top-level key and the key it is a typo of', () => {
    const error = configErrorOf({ conections: 4 });
    expect(error.message).toMatch(
      /^unknown transport option "conections" \(did you mean "connections"\?\): the valid ones are dispatcher, connections, /,
    );
    expect(error.field).toBe('conections');
    expect(error.code).toBe('GHCR_CONFIG');
  });

  it('names a key inside retry with its path', () => {
    const error = configErrorOf({ retry: { maxRetires: 1 } });
    expect(error.message).toBe(
      'unknown transport option "retry.maxRetires" (did you mean "retry.maxRetries"?): the valid ones are maxRetries, baseDelayMs, maxDelayMs, jitter, random',
    );
    expect(error.field).toBe('retry.maxRetires');
  });

  it('names keys inside rateLimit, metrics and a middleware entry', () => {
    expect(configErrorOf({ rateLimit: { onRatelimit: () => true } }).message).toMatch(
      /^unknown transport option "rateLimit\.onRatelimit" \(did you mean "rateLimit\.onRateLimit"\?\)/,
    );
    expect(configErrorOf({ metrics: { registry: {}, prefx: 'x_' } }).field).toBe('metrics.prefx');
    expect(
      configErrorOf({ middleware: [{ name: 'm', middleware: (next: unknown) => next, befor: 'retry' }] })
        .message,
    ).toMatch(/^unknown transport option "middleware\.0\.befor" \(did you mean "middleware\.0\.before"\?\)/);
  });

  it('suggests nothing for a key that is not close to any', () => {
    const error = configErrorOf({ colour: 'blue', shape: 1 });
    expect(error.message).toMatch(/^unknown transport options "colour", "shape": the valid ones are /);
  });

  it('still accepts every documented key, and undefined for an optional one', () => {
    expect(() =>
      createTransport({ tracer: undefined, dispatcher: undefined, retry: { maxRetries: undefined } }),
    ).not.toThrow();
  });
});
