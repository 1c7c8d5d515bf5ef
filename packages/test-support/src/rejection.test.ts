import { describe, expect, it } from 'vitest';
import { rejectionOf } from './rejection.js';

describe('rejectionOf', () => {
  it('returns the error a promise rejects with', async () => {
    const error = new Error('refused');
    expect(await rejectionOf(Promise.reject(error))).toBe(error);
  });
  it('throws when the promise resolves', async () => {
    await expect(rejectionOf(Promise.resolve('fine'))).rejects.toThrow(
      'expected the promise to reject, but it resolved',
    );
  });
});
