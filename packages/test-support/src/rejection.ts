/**
 * Expecting a rejection, to assert on the error itself (its class, code and message).
 */

/**
 * Awaits `promise`, expecting it to reject; returns the rejection. Throws when it resolves.
 * @internal
 */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}
